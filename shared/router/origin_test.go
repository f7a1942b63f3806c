package router_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	_ "github.com/8949market/market/functions/all" // every function, as the registry names them
	"github.com/8949market/market/shared/api"
	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/config"
	"github.com/8949market/market/shared/platform"
	"github.com/8949market/market/shared/pushauth"
	"github.com/8949market/market/shared/registry"
	"github.com/8949market/market/shared/router"
)

// origin is every function of the registry served on one origin, as the all-in-one
// binary serves them, reached over HTTP like a client; hosted holds the functions another
// service serves (the chat server's consumers), each served alone as there.
type origin struct {
	URL    string
	Kit    *platform.Kit
	signer *auth.Signer
	hosted map[string]string // function name → URL of its own server
	client *http.Client
}

// serve starts an origin on cfg.
func serve(t *testing.T, cfg config.Config, signer *auth.Signer, opts router.Options) *origin {
	t.Helper()
	kit, err := platform.New(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(kit.Close)
	srv := httptest.NewServer(router.New(kit, registry.All(), opts))
	t.Cleanup(srv.Close)
	o := &origin{URL: srv.URL, Kit: kit, signer: signer, hosted: map[string]string{}, client: &http.Client{Timeout: 30 * time.Second}}
	for _, f := range registry.All() {
		if f.Host != "" {
			hs := httptest.NewServer(f.Handler(kit))
			t.Cleanup(hs.Close)
			o.hosted[f.Name] = hs.URL
		}
	}
	return o
}

// token mints an access token for a new user with role.
func (o *origin) token(t *testing.T, role auth.Role) string {
	t.Helper()
	id := uuid.New()
	raw, _, err := o.signer.Access(auth.Identity{
		UserID: id, Username: "u" + id.String()[:8], Nickname: "n" + id.String()[:8], Role: role,
	}, 15*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// internalURL is where a delivery to event or scheduled function name goes, with the
// delivery credential.
func (o *origin) internalURL(t *testing.T, name string) string {
	t.Helper()
	base := o.URL + "/internal/functions/" + name
	if u, ok := o.hosted[name]; ok {
		base = u + "/internal/functions/" + name
	}
	u, err := pushauth.URL(base, o.Kit.Config.PushToken)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// response is an HTTP answer, read whole.
type response struct {
	Status int
	Header http.Header
	Body   []byte
}

// do sends a request to url (a path is taken on the origin) with header and body.
func (o *origin) do(t *testing.T, method, url string, header http.Header, body []byte) response {
	t.Helper()
	if strings.HasPrefix(url, "/") {
		url = o.URL + url
	}
	req, err := http.NewRequestWithContext(t.Context(), method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	res, err := o.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{Status: res.StatusCode, Header: res.Header, Body: raw}
}

// bearer is the header of a request with token (none if "") and a JSON body.
func bearer(token string) http.Header {
	h := http.Header{"Content-Type": {"application/json"}}
	if token != "" {
		h.Set("Authorization", "Bearer "+token)
	}
	return h
}

// errorBody decodes the error body strictly, or "" fields if it is not one.
func (r response) errorBody() (api.ErrorBody, bool) {
	var b api.ErrorBody
	dec := json.NewDecoder(bytes.NewReader(r.Body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&b); err != nil || b.Code == "" {
		return api.ErrorBody{}, false
	}
	return b, true
}

// refused fails the test unless r is an error body with status, code and, if field is
// not "", that field.
func (r response) refused(t *testing.T, status int, code, field string) {
	t.Helper()
	b, ok := r.errorBody()
	if !ok || r.Status != status || b.Code != code || b.Status != status {
		t.Fatalf("answer %d %q, want %d %s with the error body: %s", r.Status, b.Code, status, code, r.Body)
	}
	if field != "" && (b.Field == nil || *b.Field != field) {
		t.Errorf("field %v, want %q: %s", b.Field, field, r.Body)
	}
}

// path is f's route path with every parameter a fresh UUID, except those in values.
func path(f registry.Function, values map[string]string) string {
	p := f.Pattern.String()
	for _, name := range f.Pattern.Params() {
		v, ok := values[name]
		if !ok {
			v = uuid.NewString()
		}
		p = strings.Replace(p, "{"+name+"}", v, 1)
	}
	return p
}
