package router_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/registry"
	"github.com/8949market/market/shared/router"
	"github.com/8949market/market/shared/testenv"
)

// securityHeaders is what every response of the platform carries.
var securityHeaders = map[string]string{
	"X-Content-Type-Options":  "nosniff",
	"X-Frame-Options":         "DENY",
	"Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
	"Referrer-Policy":         "no-referrer",
}

// ownCache are the routes whose answers are public and may be cached; every other answer
// is about someone, or says nothing worth caching, and is no-store.
var ownCache = map[string]string{"auth-jwks": "public, max-age=300"}

// Every registered route, as anonymous and as a signed-in caller, answers with the
// security headers, once each: successes, refusals, 404 and 405, the origin's own
// redirects and health check, internal endpoints, the proxied chat server whether or not
// it sets them itself, and its absence. So does each function served alone, as on its
// own Cloud Run service.
func TestSecurityHeadersOnEveryResponse(t *testing.T) {
	t.Parallel()
	// The chat server stand-in sets nosniff itself on one path, and nothing on another.
	chat := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api/v1/chat/rooms" {
			w.Header().Set("X-Content-Type-Options", "nosniff")
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{}`))
	}))
	t.Cleanup(chat.Close)
	chatURL, _ := url.Parse(chat.URL)
	gone := httptest.NewServer(http.NotFoundHandler())
	goneURL, _ := url.Parse(gone.URL)
	gone.Close()

	cfg, signer := testenv.Config(t)
	o := serve(t, cfg, signer, router.Options{Chat: chatURL})
	unreachable := serve(t, cfg, signer, router.Options{Chat: goneURL})
	token := o.token(t, auth.RoleUser)

	type call struct {
		name, method, url, token string
		body                     []byte
		cache                    string
	}
	var calls []call
	for _, f := range registry.All() {
		switch {
		case f.Kind == registry.KindHTTP:
			p := path(f, nil)
			calls = append(calls,
				call{f.Name + " anonymous", f.Method, p, "", []byte(`{}`), ownCache[f.Name]},
				call{f.Name + " signed in", f.Method, p, token, []byte(`{}`), ownCache[f.Name]},
				call{f.Name + " bad token", f.Method, p, "not-a-token", nil, ownCache[f.Name]},
				call{f.Name + " wrong method", http.MethodPut, p, token, nil, ""},
			)
		case f.Host == "":
			calls = append(calls,
				call{f.Name + " no credential", http.MethodPost, "/internal/functions/" + f.Name, "", []byte(`{}`), ""},
				call{f.Name + " malformed delivery", http.MethodPost, o.internalURL(t, f.Name), "", []byte(`x`), ""},
			)
		default:
			calls = append(calls, call{f.Name + " malformed delivery", http.MethodPost, o.internalURL(t, f.Name), "", []byte(`x`), ""})
		}
	}
	calls = append(calls,
		call{"no such route", http.MethodGet, "/api/v1/nothing", "", nil, ""},
		call{"no such path", http.MethodGet, "/favicon.ico", "", nil, ""},
		call{"unclean path redirected", http.MethodGet, "/api/v1/products/../products", "", nil, ""},
		call{"health", http.MethodGet, "/healthz", "", nil, ""},
		call{"health, wrong method", http.MethodPost, "/healthz", "", nil, ""},
		call{"query that is not text", http.MethodGet, "/api/v1/products?q=%00", token, nil, ""},
		call{"chat proxied, sets nosniff itself", http.MethodGet, "/api/v1/chat/rooms", token, nil, ""},
		call{"chat proxied, sets nothing", http.MethodGet, "/api/v1/chat/rooms/x", token, nil, ""},
		call{"chat unreachable", http.MethodGet, unreachable.URL + "/api/v1/chat/rooms", token, nil, ""},
	)
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, c := range calls {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			u := c.url
			if u[0] == '/' {
				u = o.URL + u
			}
			req, err := http.NewRequestWithContext(t.Context(), c.method, u, bytes.NewReader(c.body))
			if err != nil {
				t.Fatal(err)
			}
			if c.body != nil {
				req.Header.Set("Content-Type", "application/json")
			}
			if c.token != "" {
				req.Header.Set("Authorization", "Bearer "+c.token)
			}
			res, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			checkSecurityHeaders(t, res.StatusCode, res.Header, c.cache)
		})
	}

	// Alone, as FUNCTION_TARGET serves a function at "/" of its own service.
	for _, f := range registry.All() {
		h := f.Handler(o.Kit)
		paths := map[string]string{"/": "", "/api/v1/other": ""}
		method := http.MethodPost
		if f.Kind == registry.KindHTTP {
			paths[path(f, nil)] = ownCache[f.Name]
			method = f.Method
		}
		for p, cache := range paths {
			t.Run(f.Name+" alone "+p, func(t *testing.T) {
				t.Parallel()
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, httptest.NewRequest(method, p, nil))
				checkSecurityHeaders(t, rec.Code, rec.Header(), cache)
			})
		}
	}
}

func checkSecurityHeaders(t *testing.T, status int, h http.Header, cache string) {
	t.Helper()
	want := map[string]string{"Cache-Control": "no-store"}
	if cache != "" && status == http.StatusOK {
		want["Cache-Control"] = cache
	}
	for k, v := range securityHeaders {
		want[k] = v
	}
	for k, v := range want {
		if got := h.Values(k); len(got) != 1 || got[0] != v {
			t.Errorf("status %d: %s = %q, want exactly %q", status, k, got, v)
		}
	}
}
