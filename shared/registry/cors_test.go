package registry_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/8949market/market/shared/config"
	"github.com/8949market/market/shared/pushauth"
	"github.com/8949market/market/shared/pushauth/pushauthtest"
	"github.com/8949market/market/shared/registry"
)

const (
	allowedOrigin = "https://app.example.com"
	foreignOrigin = "https://evil.example.com"
	gatewayURL    = "https://reservations-leave.run.app"
	gatewaySA     = "api-gateway@project.iam.gserviceaccount.com"
)

// A REST function behind API Gateway answers a browser's preflight itself, before its
// gateway, method and token checks (a preflight carries no token), and marks every
// response for an allowed origin, refusals included; an internal function knows no CORS.
func TestCORSBehindGateway(t *testing.T) {
	t.Parallel()
	g := pushauthtest.NewGoogle(t)
	kit := testKit(t)
	kit.Config = config.Config{CORSAllowedOrigins: []string{allowedOrigin}}
	var err error
	if kit.Gateway, err = pushauth.NewGateway(t.Context(), gatewayURL, gatewaySA, g.Option()); err != nil {
		t.Fatal(err)
	}
	viaGateway := "Bearer " + g.Token(t, pushauthtest.Claims{Audience: gatewayURL, Email: gatewaySA})

	var s registry.Set
	s.HTTP("reservations-leave", "PATCH /api/v1/reservations/{reservationId}/leave", echo("reservations-leave"))
	s.HTTP("platform-info", "GET /api/v1/platform/info", echo("platform-info"), registry.Public())
	s.Scheduled("products-tick", "* * * * *", echo("products-tick"))
	handler := func(name string) http.Handler {
		fn, ok := s.Lookup(name)
		if !ok {
			t.Fatalf("no function %s", name)
		}
		return fn.Handler(kit)
	}
	handlers := map[string]http.Handler{}
	for _, name := range []string{"reservations-leave", "platform-info", "products-tick"} {
		handlers[name] = handler(name)
	}

	tests := []struct {
		name       string
		function   string
		method     string
		path       string
		header     map[string]string
		status     int
		allowed    bool   // Access-Control-Allow-Origin is the origin
		allowMeths string // Access-Control-Allow-Methods, for a preflight answered
	}{
		{name: "preflight for the function's method, no token at all", function: "reservations-leave",
			method: "OPTIONS", path: "/api/v1/reservations/r1/leave",
			header: map[string]string{"Origin": allowedOrigin, "Access-Control-Request-Method": "PATCH", "Access-Control-Request-Headers": "authorization,content-type,traceparent"},
			status: 204, allowed: true, allowMeths: "PATCH"},
		{name: "preflight for another platform method (the gateway sends a path's OPTIONS to one function)", function: "reservations-leave",
			method: "OPTIONS", path: "/api/v1/reservations/r1/leave",
			header: map[string]string{"Origin": allowedOrigin, "Access-Control-Request-Method": "DELETE"},
			status: 204, allowed: true, allowMeths: "DELETE"},
		{name: "preflight from a foreign origin", function: "reservations-leave",
			method: "OPTIONS", path: "/api/v1/reservations/r1/leave",
			header: map[string]string{"Origin": foreignOrigin, "Access-Control-Request-Method": "PATCH"},
			status: 403},
		{name: "preflight for a method the platform has not", function: "reservations-leave",
			method: "OPTIONS", path: "/api/v1/reservations/r1/leave",
			header: map[string]string{"Origin": allowedOrigin, "Access-Control-Request-Method": "TRACE"},
			status: 403},
		{name: "preflight for a header the platform does not read", function: "reservations-leave",
			method: "OPTIONS", path: "/api/v1/reservations/r1/leave",
			header: map[string]string{"Origin": allowedOrigin, "Access-Control-Request-Method": "PATCH", "Access-Control-Request-Headers": "x-api-key"},
			status: 403},
		{name: "OPTIONS without Origin is no preflight: the gateway check refuses it", function: "reservations-leave",
			method: "OPTIONS", path: "/api/v1/reservations/r1/leave",
			header: map[string]string{"Access-Control-Request-Method": "PATCH"},
			status: 401},
		{name: "around the gateway: refused, and the browser may read why", function: "reservations-leave",
			method: "PATCH", path: "/api/v1/reservations/r1/leave",
			header: map[string]string{"Origin": allowedOrigin},
			status: 401, allowed: true},
		{name: "through the gateway without an access token: refused, readable", function: "reservations-leave",
			method: "PATCH", path: "/api/v1/reservations/r1/leave",
			header: map[string]string{"Origin": allowedOrigin, "Authorization": viaGateway},
			status: 401, allowed: true},
		{name: "wrong method: refused, readable", function: "reservations-leave",
			method: "GET", path: "/api/v1/reservations/r1/leave",
			header: map[string]string{"Origin": allowedOrigin, "Authorization": viaGateway},
			status: 405, allowed: true},
		{name: "public function through the gateway", function: "platform-info",
			method: "GET", path: "/api/v1/platform/info",
			header: map[string]string{"Origin": allowedOrigin, "Authorization": viaGateway},
			status: 200, allowed: true},
		{name: "public function, foreign origin: served, not marked", function: "platform-info",
			method: "GET", path: "/api/v1/platform/info",
			header: map[string]string{"Origin": foreignOrigin, "Authorization": viaGateway},
			status: 200},
		{name: "scheduled function: no CORS, the delivery check refuses a preflight", function: "products-tick",
			method: "OPTIONS", path: "/",
			header: map[string]string{"Origin": allowedOrigin, "Access-Control-Request-Method": "POST"},
			status: 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req := httptest.NewRequest(tt.method, tt.path, nil)
			for k, v := range tt.header {
				req.Header.Set(k, v)
			}
			rec := httptest.NewRecorder()
			handlers[tt.function].ServeHTTP(rec, req)
			h := rec.Header()
			if rec.Code != tt.status {
				t.Fatalf("status = %d, want %d: %s", rec.Code, tt.status, rec.Body)
			}
			if got, want := h.Get("Access-Control-Allow-Origin"), map[bool]string{true: allowedOrigin}[tt.allowed]; got != want {
				t.Errorf("Access-Control-Allow-Origin = %q, want %q", got, want)
			}
			if got := h.Get("Access-Control-Allow-Methods"); got != tt.allowMeths {
				t.Errorf("Access-Control-Allow-Methods = %q, want %q", got, tt.allowMeths)
			}
			if h.Get("Access-Control-Allow-Credentials") != "" {
				t.Error("credentials allowed: tokens are bearer headers, never cookies")
			}
			if h.Get("X-Trace-Id") == "" {
				t.Error("no X-Trace-Id: the answer was not instrumented")
			}
			switch {
			case tt.allowMeths != "":
				if h.Get("Access-Control-Max-Age") == "" {
					t.Error("no Access-Control-Max-Age on a preflight answered")
				}
				if want := tt.header["Access-Control-Request-Headers"]; h.Get("Access-Control-Allow-Headers") != want {
					t.Errorf("Access-Control-Allow-Headers = %q, want %q", h.Get("Access-Control-Allow-Headers"), want)
				}
			case tt.allowed:
				if exp := h.Get("Access-Control-Expose-Headers"); !strings.Contains(exp, "X-Trace-Id") || !strings.Contains(exp, "Retry-After") {
					t.Errorf("Access-Control-Expose-Headers = %q, want X-Trace-Id and Retry-After", exp)
				}
			}
			if tt.function != "products-tick" && !strings.Contains(strings.Join(h.Values("Vary"), ","), "Origin") {
				t.Errorf("Vary = %q: a cache would serve one origin's answer to another", h.Values("Vary"))
			}
		})
	}
}

// The dev router's mux and the gateway stand-in send a preflight to a function of its
// path, whichever method it asks for, as API Gateway routes a path's OPTIONS; a path no
// function serves stays 404, and an OPTIONS that is no preflight keeps the mux's 405.
func TestMuxRoutesPreflights(t *testing.T) {
	t.Parallel()
	kit := testKit(t)
	kit.Config = config.Config{CORSAllowedOrigins: []string{allowedOrigin}}
	var s registry.Set
	s.HTTP("products-search", "GET /api/v1/products", echo("products-search"), registry.Public())
	s.HTTP("products-create", "POST /api/v1/products", echo("products-create"))
	s.HTTP("products-my", "GET /api/v1/products/my", echo("products-my"))
	s.HTTP("products-get", "GET /api/v1/products/{productId}", echo("products-get"), registry.Public())
	mux := registry.NewMux(kit, s.All())

	tests := []struct {
		name, path, origin, ask string
		status                  int
		allow                   string // the mux's Allow on a 405
	}{
		{name: "the POST of a path with two methods", path: "/api/v1/products", origin: allowedOrigin, ask: "POST", status: 204},
		{name: "the GET of a path with two methods", path: "/api/v1/products", origin: allowedOrigin, ask: "GET", status: 204},
		{name: "a fixed path beside a parameter", path: "/api/v1/products/my", origin: allowedOrigin, ask: "GET", status: 204},
		{name: "a parameter path", path: "/api/v1/products/p1", origin: allowedOrigin, ask: "GET", status: 204},
		{name: "a foreign origin", path: "/api/v1/products", origin: foreignOrigin, ask: "POST", status: 403},
		{name: "no function serves the path", path: "/api/v1/nothing", origin: allowedOrigin, ask: "GET", status: 404},
		{name: "no preflight: the mux's 405", path: "/api/v1/products", status: 405, allow: "GET, POST"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req := httptest.NewRequest("OPTIONS", tt.path, nil)
			if tt.origin != "" {
				req.Header.Set("Origin", tt.origin)
				req.Header.Set("Access-Control-Request-Method", tt.ask)
			}
			rec := httptest.NewRecorder()
			mux.ServeHTTP(rec, req)
			if rec.Code != tt.status {
				t.Fatalf("status = %d, want %d: %s", rec.Code, tt.status, rec.Body)
			}
			wantOrigin := ""
			if tt.status == 204 {
				wantOrigin = tt.origin
			}
			if got := rec.Header().Get("Access-Control-Allow-Origin"); got != wantOrigin {
				t.Errorf("Access-Control-Allow-Origin = %q, want %q", got, wantOrigin)
			}
			if got := rec.Header().Get("Allow"); got != tt.allow {
				t.Errorf("Allow = %q, want %q", got, tt.allow)
			}
		})
	}
}
