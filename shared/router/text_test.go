package router_test

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/registry"
	"github.com/8949market/market/shared/router"
	"github.com/8949market/market/shared/testenv"
)

// textInput is one input of a REST function that takes text: a body field (body, with %s
// where the bad string goes) or a query parameter the function reads. Path parameters
// come from the registry's routes.
type textInput struct {
	field string // as the error names it
	body  string // a body template; "" for a query parameter
}

func query(names ...string) []textInput {
	var in []textInput
	for _, n := range names {
		in = append(in, textInput{field: n})
	}
	return in
}

func body(field, template string) textInput { return textInput{field: field, body: template} }

// ranges are the body fields of a chat time range, nested in a list.
var ranges = []textInput{
	body("chatTimeRanges.dayOfWeek", `{"chatTimeRanges":[{"dayOfWeek":%s,"startTime":"09:00","endTime":"10:00"}]}`),
	body("chatTimeRanges.startTime", `{"chatTimeRanges":[{"dayOfWeek":"MONDAY","startTime":%s,"endTime":"10:00"}]}`),
	body("chatTimeRanges.endTime", `{"chatTimeRanges":[{"dayOfWeek":"MONDAY","startTime":"09:00","endTime":%s}]}`),
}

var productQuery = query("status", "sellerId", "q", "minPrice", "maxPrice", "openNow", "startingWithin", "sort", "size", "cursor")

// textInputs lists, for every REST function of the registry, the body fields and query
// parameters it reads (path parameters are added from its route). A function missing
// here fails the test: a new route must say what text it takes.
var textInputs = map[string][]textInput{
	"auth-jwks":   nil,
	"auth-login":  {body("username", `{"username":%s,"password":"Secret!123"}`), body("password", `{"username":"someone","password":%s}`)},
	"auth-logout": nil,
	"auth-reissue": {
		body("accessToken", `{"accessToken":%s,"refreshToken":"a.b"}`),
		body("refreshToken", `{"accessToken":"a.b.c","refreshToken":%s}`),
	},
	"auth-signup": append([]textInput{
		body("username", `{"username":%s}`), body("password", `{"password":%s}`), body("userRole", `{"userRole":%s}`),
		body("name", `{"name":%s}`), body("nickname", `{"nickname":%s}`),
	}, ranges...),
	"platform-docs":                nil,
	"platform-info":                nil,
	"products-cancel":              nil,
	"products-create":              {body("name", `{"name":%s,"description":"d","price":1000}`), body("description", `{"name":"n","description":%s}`)},
	"products-delete":              nil,
	"products-get":                 nil,
	"products-my":                  productQuery,
	"products-photo-order":         nil, // its body holds photo ids, refused as such (C010)
	"products-photo-remove":        nil,
	"products-photo-upload":        {body("contentType", `{"contentType":%s}`)},
	"products-photos":              nil,
	"products-schedule":            nil, // its body holds times, refused as such (C010)
	"products-search":              productQuery,
	"products-update":              {body("name", `{"name":%s}`), body("description", `{"description":%s}`)},
	"reservations-apply":           nil,
	"reservations-cancel-buyer":    {body("reason", `{"reason":%s}`)},
	"reservations-cancel-seller":   {body("reason", `{"reason":%s}`)},
	"reservations-complete":        nil,
	"reservations-expire":          {body("reason", `{"reason":%s}`)},
	"reservations-get":             nil,
	"reservations-leave":           nil,
	"reservations-list":            query("productId", "productName", "sellerName", "buyerName", "status", "size", "cursor"),
	"reservations-payment-confirm": nil,
	"trades-cancel":                {body("cancelReasonType", `{"cancelReasonType":%s,"cancelReasonDetail":"d"}`), body("cancelReasonDetail", `{"cancelReasonType":"BUYER_CHANGED_MIND","cancelReasonDetail":%s}`)},
	"trades-complete":              nil,
	"trades-get":                   nil,
	"trades-list":                  query("status", "role", "size", "cursor"),
	"users-chat-availability":      query("chatDate", "chatTime"),
	"users-delete":                 nil,
	"users-get":                    nil,
	"users-list":                   query("keyword", "username", "name", "nickname", "userRole", "sort", "size", "cursor"),
	"users-me":                     nil,
	"users-update":                 {body("name", `{"name":%s}`), body("nickname", `{"nickname":%s}`), body("userRole", `{"userRole":%s}`)},
	"users-update-me":              append([]textInput{body("name", `{"name":%s}`), body("nickname", `{"nickname":%s}`), body("password", `{"password":%s}`)}, ranges...),
}

// The text PostgreSQL cannot store, as each kind of input carries it.
var (
	badJSON = []struct{ name, literal string }{
		{"NUL escape", `"a\u0000b"`},
		{"invalid UTF-8", "\"caf\xe9\""},
		{"unpaired surrogate escape", `"\udc00"`},
	}
	badEscaped = []struct{ name, value string }{
		{"NUL", "a%00b"},
		{"invalid UTF-8", "caf%E9"},
	}
)

// NUL and invalid UTF-8 are refused with 400 C016, naming the input, by every REST input
// that takes text: body fields at any depth, query parameters, path parameters. None of
// them reaches PostgreSQL, which would refuse it with an error (a 500 before).
func TestTextRefusedByEveryInput(t *testing.T) {
	t.Parallel()
	cfg, signer := testenv.Config(t)
	o := serve(t, cfg, signer, router.Options{})
	token := o.token(t, auth.RoleMaster)

	var rest []string
	for _, f := range registry.All() {
		if f.Kind == registry.KindHTTP {
			rest = append(rest, f.Name)
		}
	}
	for name := range textInputs {
		if !slices.Contains(rest, name) {
			t.Errorf("textInputs names %s, which is not a REST function", name)
		}
	}
	for _, name := range rest {
		f, _ := registry.Lookup(name)
		inputs, ok := textInputs[name]
		if !ok {
			t.Errorf("%s (%s) is not in textInputs: say which text it takes", name, f.Route())
			continue
		}
		for _, param := range f.Pattern.Params() {
			for _, bad := range badEscaped {
				t.Run(fmt.Sprintf("%s/path %s/%s", name, param, bad.name), func(t *testing.T) {
					t.Parallel()
					o.do(t, f.Method, path(f, map[string]string{param: bad.value}), bearer(token), []byte(`{}`)).
						refused(t, http.StatusBadRequest, "C016", param)
				})
			}
		}
		for _, in := range inputs {
			if in.body == "" {
				for _, bad := range badEscaped {
					t.Run(fmt.Sprintf("%s/query %s/%s", name, in.field, bad.name), func(t *testing.T) {
						t.Parallel()
						o.do(t, f.Method, path(f, nil)+"?"+in.field+"="+bad.value, bearer(token), nil).
							refused(t, http.StatusBadRequest, "C016", in.field)
					})
				}
				continue
			}
			for _, bad := range badJSON {
				t.Run(fmt.Sprintf("%s/body %s/%s", name, in.field, bad.name), func(t *testing.T) {
					t.Parallel()
					raw := strings.Replace(in.body, "%s", bad.literal, 1)
					o.do(t, f.Method, path(f, nil), bearer(token), []byte(raw)).
						refused(t, http.StatusBadRequest, "C016", in.field)
				})
			}
		}
	}
}

// The same inputs with ordinary text of many scripts are not refused for their text.
func TestTextOfEveryScriptAccepted(t *testing.T) {
	t.Parallel()
	cfg, signer := testenv.Config(t)
	o := serve(t, cfg, signer, router.Options{})
	token := o.token(t, auth.RoleMaster)
	const text = "팔구사구 café Ω 😀 \uFFFD"
	for name, inputs := range textInputs {
		f, _ := registry.Lookup(name)
		for _, in := range inputs {
			t.Run(name+"/"+in.field, func(t *testing.T) {
				t.Parallel()
				var res response
				if in.body == "" {
					res = o.do(t, f.Method, path(f, nil)+"?"+in.field+"="+url.QueryEscape(text), bearer(token), nil)
				} else {
					res = o.do(t, f.Method, path(f, nil), bearer(token), []byte(strings.Replace(in.body, "%s", `"`+text+`"`, 1)))
				}
				if b, _ := res.errorBody(); b.Code == "C016" || res.Status >= 500 {
					t.Errorf("answer %d %s: %s", res.Status, b.Code, res.Body)
				}
			})
		}
	}
}
