package devstack_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/8949market/market/shared/config"
	"github.com/8949market/market/shared/devstack"
	"github.com/8949market/market/shared/devstack/stacktest"
	"github.com/8949market/market/shared/testenv"
)

// A browser page on an allowed origin reaches every route from outside: its preflight is
// answered 204 for public and protected routes alike and for each method of a path, and
// the answers, refusals included, name its origin. Other pages get no
// Access-Control-Allow-Origin, and with the production default (no origin) no page does.
func TestCORS(t *testing.T) {
	t.Parallel()
	// make dev's defaults: the stack's own origin and the usual front-end dev servers.
	dev := devstack.DevOrigins(8080)
	if _, err := config.Parse(map[string]string{"CORS_ALLOWED_ORIGINS": strings.Join(dev, ",")}); err != nil {
		t.Fatalf("make dev's origins are not valid configuration: %v", err)
	}
	const page = "http://localhost:5173"
	cfg, signer := testenv.Config(t)
	cfg.CORSAllowedOrigins = dev
	allowing := stacktest.StartWith(t, cfg, signer)
	cfg, signer = testenv.Config(t)
	cfg.CORSAllowedOrigins = nil // the production default
	closed := stacktest.StartWith(t, cfg, signer)

	reservation := "/api/v1/reservations/" + uuid.NewString()
	preflight := func(origin, method, headers string) http.Header {
		h := http.Header{"Origin": {origin}, "Access-Control-Request-Method": {method}}
		if headers != "" {
			h.Set("Access-Control-Request-Headers", headers)
		}
		return h
	}
	from := func(origin string) http.Header { return http.Header{"Origin": {origin}} }
	tests := []struct {
		name         string
		st           *stacktest.Stack
		method, path string
		header       http.Header
		status       int
		allowed      bool // Access-Control-Allow-Origin names the page
	}{
		{"preflight, public route", allowing, "OPTIONS", "/api/v1/auth/login", preflight(page, "POST", "content-type"), 204, true},
		{"preflight, protected route", allowing, "OPTIONS", reservation, preflight(page, "PATCH", "authorization,content-type"), 204, true},
		{"preflight, the GET of a path with two methods", allowing, "OPTIONS", "/api/v1/products", preflight(page, "GET", "authorization"), 204, true},
		{"preflight, the POST of a path with two methods", allowing, "OPTIONS", "/api/v1/products", preflight(page, "POST", "authorization,content-type"), 204, true},
		{"preflight from the stack's own origin", allowing, "OPTIONS", "/api/v1/users/me", preflight("http://127.0.0.1:8080", "GET", "authorization"), 204, true},
		{"preflight from a foreign page", allowing, "OPTIONS", "/api/v1/auth/login", preflight("https://evil.example.com", "POST", "content-type"), 403, false},
		{"preflight on a path no function serves", allowing, "OPTIONS", "/api/v1/nothing", preflight(page, "GET", ""), 404, false},
		{"a call", allowing, "GET", "/api/v1/platform/info", from(page), 200, true},
		{"a call refused for want of a token", allowing, "GET", "/api/v1/users/me", from(page), 401, true},
		{"a call from a foreign page", allowing, "GET", "/api/v1/platform/info", from("https://evil.example.com"), 200, false},
		{"default: preflight from make dev's page", closed, "OPTIONS", "/api/v1/auth/login", preflight(page, "POST", "content-type"), 403, false},
		{"default: a call from make dev's page", closed, "GET", "/api/v1/platform/info", from(page), 200, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res := tt.st.DoWith(t, tt.method, tt.path, tt.header, nil, "")
			if res.Status != tt.status {
				t.Fatalf("status %d, want %d: %s", res.Status, tt.status, res.Body)
			}
			want := ""
			if tt.allowed {
				want = tt.header.Get("Origin")
			}
			if got := res.Header.Get("Access-Control-Allow-Origin"); got != want {
				t.Errorf("Access-Control-Allow-Origin = %q, want %q", got, want)
			}
			if ask := tt.header.Get("Access-Control-Request-Method"); tt.allowed && ask != "" {
				if got := res.Header.Get("Access-Control-Allow-Methods"); !strings.Contains(got, ask) {
					t.Errorf("Access-Control-Allow-Methods = %q, want %s", got, ask)
				}
			}
			if tt.allowed && tt.method != "OPTIONS" && !strings.Contains(res.Header.Get("Access-Control-Expose-Headers"), "X-Trace-Id") {
				t.Errorf("Access-Control-Expose-Headers = %q: the page cannot read X-Trace-Id", res.Header.Get("Access-Control-Expose-Headers"))
			}
		})
	}
}
