package registry_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	cloudevents "github.com/cloudevents/sdk-go/v2"

	"github.com/8949market/market/shared/api"
	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/config"
	"github.com/8949market/market/shared/platform"
	"github.com/8949market/market/shared/pushauth"
	"github.com/8949market/market/shared/registry"
)

// echo answers with the function's name and path parameters.
func echo(name string, params ...string) func(*platform.Kit) http.Handler {
	return func(*platform.Kit) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			out := map[string]string{"fn": name}
			for _, p := range params {
				out[p] = r.PathValue(p)
			}
			api.OK(w, r, out)
		})
	}
}

// testPushToken is the delivery credential of testKit's internal endpoints.
const testPushToken = "0123456789abcdef0123456789abcdef"

// testKit is enough of a kit for public routes, for refusing tokens and for checking
// deliveries (PUSH_AUTH=token with testPushToken).
func testKit(t *testing.T) *platform.Kit {
	key, err := auth.GenerateSigningKey("k1")
	if err != nil {
		t.Fatal(err)
	}
	push, err := pushauth.New(t.Context(), config.Config{PushAuth: "token", PushToken: testPushToken})
	if err != nil {
		t.Fatal(err)
	}
	return &platform.Kit{Verifier: auth.NewVerifier(key.PublicKeys(), nil), Push: push}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		build   func(s *registry.Set)
		wantErr string
	}{
		{"distinct routes", func(s *registry.Set) {
			s.HTTP("products-get", "GET /api/v1/products/{productId}", echo("a"))
			s.HTTP("products-my", "GET /api/v1/products/my", echo("b"))
			s.HTTP("products-update", "PATCH /api/v1/products/{productId}", echo("c"))
		}, ""},
		{"same route twice", func(s *registry.Set) {
			s.HTTP("a-one", "GET /api/v1/things/{id}", echo("a"))
			s.HTTP("a-two", "GET /api/v1/things/{thingId}", echo("b"))
		}, "collides"},
		{"same name twice", func(s *registry.Set) {
			s.HTTP("dup", "GET /api/v1/a", echo("a"))
			s.HTTP("dup", "GET /api/v1/b", echo("b"))
		}, "registered by"},
		{"bad name", func(s *registry.Set) { s.HTTP("Bad_Name", "GET /api/v1/a", echo("a")) }, "function name"},
		{"bad method", func(s *registry.Set) { s.HTTP("x-y", "FETCH /api/v1/a", echo("a")) }, "METHOD /path"},
		{"outside api", func(s *registry.Set) { s.HTTP("x-y", "GET /healthz", echo("a")) }, "/api/v1/"},
		{"bad pattern", func(s *registry.Set) { s.HTTP("x-y", "GET /api/v1/{a}/{a}", echo("a")) }, "parameter"},
		{"event without topic", func(s *registry.Set) { s.Event("x-y", "", nil) }, "topic required"},
		{"bad schedule", func(s *registry.Set) { s.Scheduled("x-y", "every minute", echo("a")) }, "cron"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var s registry.Set
			tt.build(&s)
			err := s.Validate()
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("Validate() = %v, want nil", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("Validate() = %v, want error containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestPackageRecorded(t *testing.T) {
	t.Parallel()
	var s registry.Set
	s.HTTP("x-y", "GET /api/v1/x", echo("x"))
	if got := s.All()[0].Package; got != "github.com/8949market/market/shared/registry_test" {
		t.Errorf("Package = %q", got)
	}
}

type routed struct {
	Data map[string]string `json:"data"`
	Code string            `json:"code"`
}

func TestMuxRoutesByMethodAndPath(t *testing.T) {
	t.Parallel()
	var s registry.Set
	s.HTTP("products-get", "GET /api/v1/products/{productId}", echo("products-get", "productId"), registry.Public())
	s.HTTP("products-my", "GET /api/v1/products/my", echo("products-my"), registry.Public())
	s.HTTP("products-update", "PATCH /api/v1/products/{productId}", echo("products-update", "productId"), registry.Public())
	s.HTTP("products-delete", "DELETE /api/v1/products/{productId}", echo("products-delete", "productId"), registry.Public())
	s.HTTP("products-schedule", "PATCH /api/v1/products/{productId}/schedule", echo("products-schedule", "productId"), registry.Public())
	s.HTTP("products-secret", "GET /api/v1/products/{productId}/secret", echo("products-secret"))
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	mux := registry.NewMux(testKit(t), s.All())

	tests := []struct {
		method, path string
		status       int
		fn, param    string
		code, allow  string
	}{
		{"GET", "/api/v1/products/p1", 200, "products-get", "p1", "", ""},
		{"GET", "/api/v1/products/my", 200, "products-my", "", "", ""},
		{"PATCH", "/api/v1/products/p2", 200, "products-update", "p2", "", ""},
		{"DELETE", "/api/v1/products/p3", 200, "products-delete", "p3", "", ""},
		{"PATCH", "/api/v1/products/p4/schedule", 200, "products-schedule", "p4", "", ""},
		{"POST", "/api/v1/products/p1", 405, "", "", "C005", "DELETE, GET, PATCH"},
		{"GET", "/api/v1/products/p4/schedule", 405, "", "", "C005", "PATCH"},
		{"GET", "/api/v1/nothing", 404, "", "", "C004", ""},
		{"GET", "/api/v1/products/p1/", 404, "", "", "C004", ""},
		{"GET", "/api/v1/products/p1/secret", 401, "", "", "C002", ""},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			t.Parallel()
			rec := httptest.NewRecorder()
			mux.ServeHTTP(rec, httptest.NewRequest(tt.method, tt.path, nil))
			if rec.Code != tt.status {
				t.Fatalf("status = %d, want %d: %s", rec.Code, tt.status, rec.Body)
			}
			var got routed
			if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
				t.Fatal(err)
			}
			if tt.fn != "" && (got.Data["fn"] != tt.fn || got.Data["productId"] != tt.param) {
				t.Errorf("served by %v, want %s with productId %q", got.Data, tt.fn, tt.param)
			}
			if got.Code != tt.code {
				t.Errorf("code = %q, want %q", got.Code, tt.code)
			}
			if allow := rec.Header().Get("Allow"); allow != tt.allow {
				t.Errorf("Allow = %q, want %q", allow, tt.allow)
			}
			if rec.Header().Get("X-Trace-Id") == "" {
				t.Error("no X-Trace-Id")
			}
		})
	}
}

// A function served alone (Cloud Run, FUNCTION_TARGET) gets every path at "/": it must
// read its own parameters from the full path and refuse paths and methods not its own.
func TestHandlerServedAlone(t *testing.T) {
	t.Parallel()
	var s registry.Set
	s.HTTP("products-schedule", "PATCH /api/v1/products/{productId}/schedule",
		echo("products-schedule", "productId"), registry.Public())
	fn, _ := s.Lookup("products-schedule")
	mux := http.NewServeMux()
	mux.Handle("/", fn.Handler(testKit(t))) // as the Functions Framework mounts it

	tests := []struct {
		method, path string
		status       int
	}{
		{"PATCH", "/api/v1/products/abc/schedule", 200},
		{"GET", "/api/v1/products/abc/schedule", 405},
		{"PATCH", "/", 404},
		{"PATCH", "/api/v1/products/abc", 404},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			t.Parallel()
			rec := httptest.NewRecorder()
			mux.ServeHTTP(rec, httptest.NewRequest(tt.method, tt.path, nil))
			if rec.Code != tt.status {
				t.Fatalf("status = %d, want %d: %s", rec.Code, tt.status, rec.Body)
			}
			if tt.status == 200 && !strings.Contains(rec.Body.String(), `"productId":"abc"`) {
				t.Errorf("path parameter not read: %s", rec.Body)
			}
		})
	}
}

func TestScheduledIsPostOnly(t *testing.T) {
	t.Parallel()
	var s registry.Set
	s.Scheduled("products-tick", "* * * * *", echo("products-tick"))
	fn, _ := s.Lookup("products-tick")
	h := fn.Handler(testKit(t))
	for method, want := range map[string]int{"POST": 200, "GET": 405} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(method, "/?token="+testPushToken, nil))
		if rec.Code != want {
			t.Errorf("%s: status %d, want %d", method, rec.Code, want)
		}
	}
}

// Event and scheduled functions serve only verified callers, whatever serves them; a kit
// that cannot verify anyone refuses every call and is not servable.
func TestInternalFunctionsVerifyTheirCallers(t *testing.T) {
	t.Parallel()
	var s registry.Set
	ran := 0
	s.Scheduled("products-tick", "* * * * *", func(*platform.Kit) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { ran++; api.OK(w, r, nil) })
	})
	s.Event("products-thing", "thing-happened", func(*platform.Kit) registry.EventHandler {
		return func(context.Context, cloudevents.Event) error { ran++; return nil }
	})
	unconfigured := testKit(t)
	unconfigured.Push = nil
	for _, name := range []string{"products-tick", "products-thing"} {
		fn, _ := s.Lookup(name)
		tests := []struct {
			name   string
			kit    *platform.Kit
			query  string
			bearer string
			status int
			code   string
		}{
			{"no credential", testKit(t), "", "", 401, "C002"},
			{"wrong token", testKit(t), "?token=" + strings.Repeat("x", 32), "", 401, "C002"},
			{"token in a header only", testKit(t), "", testPushToken, 401, "C002"},
			{"right token", testKit(t), "?token=" + testPushToken, "", 200, ""},
			{"unconfigured kit, right token", unconfigured, "?token=" + testPushToken, "", 503, "C014"},
		}
		for _, tt := range tests {
			t.Run(name+"/"+tt.name, func(t *testing.T) {
				before := ran
				req := httptest.NewRequest("POST", "/internal/functions/"+name+tt.query, strings.NewReader(`{"a":1}`))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("ce-specversion", "1.0")
				req.Header.Set("ce-id", "0190a0b0-c0d0-7e0f-8a1b-2c3d4e5f6071")
				req.Header.Set("ce-type", "thing-happened")
				req.Header.Set("ce-source", "test")
				if tt.bearer != "" {
					req.Header.Set("Authorization", "Bearer "+tt.bearer)
				}
				rec := httptest.NewRecorder()
				fn.Handler(tt.kit).ServeHTTP(rec, req)
				if rec.Code != tt.status || !strings.Contains(rec.Body.String(), tt.code) {
					t.Fatalf("status %d, want %d %s: %s", rec.Code, tt.status, tt.code, rec.Body)
				}
				if got := ran - before; (tt.status == 200) != (got == 1) {
					t.Fatalf("function ran %d times for status %d", got, tt.status)
				}
			})
		}
		if err := registry.Servable(unconfigured, fn); err == nil || !strings.Contains(err.Error(), "PUSH_AUTH") {
			t.Errorf("%s servable without a delivery check: %v", name, err)
		}
		if err := registry.Servable(testKit(t), fn); err != nil {
			t.Errorf("%s not servable with one: %v", name, err)
		}
	}
}

// A function that issues tokens, in a process without the private key, answers 503 and
// is never built; with the key it serves. The manifest marks it, so Terraform gives the
// key to that service only.
func TestSigningFunctionNeedsKey(t *testing.T) {
	t.Parallel()
	var s registry.Set
	built := false
	s.HTTP("auth-login", "POST /api/v1/auth/login", func(kit *platform.Kit) http.Handler {
		built = true
		return echo("auth-login")(kit)
	}, registry.Public(), registry.Signs())
	s.HTTP("auth-jwks", "GET /api/v1/auth/jwks", echo("auth-jwks"), registry.Public())
	fn, _ := s.Lookup("auth-login")

	rec := httptest.NewRecorder()
	fn.Handler(testKit(t)).ServeHTTP(rec, httptest.NewRequest("POST", "/api/v1/auth/login", nil))
	if rec.Code != http.StatusServiceUnavailable || built {
		t.Fatalf("without a signer: status %d, built %v; want 503 and not built", rec.Code, built)
	}

	key, err := auth.GenerateSigningKey("k1")
	if err != nil {
		t.Fatal(err)
	}
	kit := testKit(t)
	kit.Signer = auth.NewSigner(key)
	rec = httptest.NewRecorder()
	fn.Handler(kit).ServeHTTP(rec, httptest.NewRequest("POST", "/api/v1/auth/login", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("with a signer: status %d: %s", rec.Code, rec.Body)
	}

	raw, err := registry.Manifest(s.All())
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Functions []registry.ManifestEntry `json:"functions"`
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	for _, e := range m.Functions {
		if e.Signs != (e.Name == "auth-login") {
			t.Errorf("manifest %s: signs = %v", e.Name, e.Signs)
		}
	}
}

// A path parameter is decoded from the path, so %00 and %FF reach the function as NUL
// and invalid UTF-8; the route refuses them, naming the parameter, before the function
// (or its database) sees them.
func TestPathParametersMustBeText(t *testing.T) {
	t.Parallel()
	var s registry.Set
	s.HTTP("products-get", "GET /api/v1/products/{productId}", echo("products-get", "productId"), registry.Public())
	s.HTTP("products-schedule", "PATCH /api/v1/products/{productId}/schedule", echo("products-schedule", "productId"), registry.Public())
	mux := registry.NewMux(testKit(t), s.All())
	tests := []struct {
		method, path string
		status       int
		param        string // the value the function sees, when served
	}{
		{"GET", "/api/v1/products/a%00b", 400, ""},
		{"GET", "/api/v1/products/%FF", 400, ""},
		{"PATCH", "/api/v1/products/caf%E9/schedule", 400, ""},
		{"GET", "/api/v1/products/caf%C3%A9", 200, "café"},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			t.Parallel()
			rec := httptest.NewRecorder()
			mux.ServeHTTP(rec, httptest.NewRequest(tt.method, tt.path, nil))
			if rec.Code != tt.status {
				t.Fatalf("status = %d, want %d: %s", rec.Code, tt.status, rec.Body)
			}
			var got struct {
				routed
				Field *string `json:"field"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
				t.Fatal(err)
			}
			if tt.status == 200 {
				if got.Data["productId"] != tt.param {
					t.Errorf("productId = %q, want %q", got.Data["productId"], tt.param)
				}
				return
			}
			if got.Code != "C016" || got.Field == nil || *got.Field != "productId" {
				t.Errorf("code %s field %v, want C016 on productId: %s", got.Code, got.Field, rec.Body)
			}
		})
	}
}
