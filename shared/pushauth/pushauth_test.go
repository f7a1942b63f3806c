package pushauth_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/8949market/market/shared/config"
	"github.com/8949market/market/shared/pushauth"
	"github.com/8949market/market/shared/pushauth/pushauthtest"
)

const (
	service  = "https://products-tick-123.asia-northeast3.run.app"
	pusher   = "pubsub-push@project.iam.gserviceaccount.com"
	stranger = "someone@project.iam.gserviceaccount.com"
	token    = "0123456789abcdef0123456789abcdef"
)

// reached records whether a request got past the check.
func reached(t *testing.T, h func(http.Handler) http.Handler, req *http.Request) (int, string, bool) {
	t.Helper()
	ran := false
	rec := httptest.NewRecorder()
	h(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { ran = true })).ServeHTTP(rec, req)
	return rec.Code, rec.Body.String(), ran
}

func TestToken(t *testing.T) {
	t.Parallel()
	v, err := pushauth.New(t.Context(), config.Config{PushAuth: "token", PushToken: token})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, target, bearer string
		status               int
	}{
		{"the token", "/internal/functions/x?token=" + token, "", 200},
		{"none", "/internal/functions/x", "", 401},
		{"empty", "/internal/functions/x?token=", "", 401},
		{"a prefix of it", "/internal/functions/x?token=" + token[:31], "", 401},
		{"another", "/internal/functions/x?token=" + strings.Repeat("0", 32), "", 401},
		{"in a header instead", "/internal/functions/x", token, 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req := httptest.NewRequest("POST", tt.target, nil)
			if tt.bearer != "" {
				req.Header.Set("Authorization", "Bearer "+tt.bearer)
			}
			status, body, ran := reached(t, v.Require, req)
			if status != tt.status || ran != (tt.status == 200) {
				t.Fatalf("status %d (ran %v), want %d: %s", status, ran, tt.status, body)
			}
		})
	}
}

func TestOIDC(t *testing.T) {
	t.Parallel()
	g := pushauthtest.NewGoogle(t)
	v, err := pushauth.New(t.Context(), config.Config{PushAuth: "oidc", ServiceURL: service, PushInvokers: []string{pusher}}, g.Option())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		bearer string
		status int
		code   string
	}{
		{"the pusher, for this service", g.Token(t, pushauthtest.Claims{Audience: service, Email: pusher}), 200, ""},
		{"no token", "", 401, "C002"},
		{"not a JWT", "not-a-token", 401, "C002"},
		{"for another service", g.Token(t, pushauthtest.Claims{Audience: service + "x", Email: pusher}), 401, "C002"},
		{"expired", g.Token(t, pushauthtest.Claims{Audience: service, Email: pusher, Expires: time.Now().Add(-time.Minute)}), 401, "C002"},
		{"another issuer", g.Token(t, pushauthtest.Claims{Audience: service, Email: pusher, Issuer: "https://evil.example"}), 401, "C002"},
		{"signed with another key", g.Forged(t, pushauthtest.Claims{Audience: service, Email: pusher}), 401, "C002"},
		{"another service account", g.Token(t, pushauthtest.Claims{Audience: service, Email: stranger}), 403, "C003"},
		{"an unverified email", g.Token(t, pushauthtest.Claims{Audience: service, Email: pusher, Unverified: true}), 403, "C003"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req := httptest.NewRequest("POST", "/", nil)
			if tt.bearer != "" {
				req.Header.Set("Authorization", "Bearer "+tt.bearer)
			}
			status, body, ran := reached(t, v.Require, req)
			if status != tt.status || ran != (tt.status == 200) || !strings.Contains(body, tt.code) {
				t.Fatalf("status %d (ran %v), want %d %s: %s", status, ran, tt.status, tt.code, body)
			}
		})
	}
	// The local credential means nothing to an oidc service.
	req := httptest.NewRequest("POST", "/?token="+token, nil)
	if status, _, ran := reached(t, v.Require, req); status != 401 || ran {
		t.Fatalf("token in oidc mode: status %d, ran %v", status, ran)
	}
}

func TestUnconfiguredRefusesEveryone(t *testing.T) {
	t.Parallel()
	v, err := pushauth.New(t.Context(), config.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if v.Ready() == nil {
		t.Fatal("an unconfigured verifier says it is ready")
	}
	status, _, ran := reached(t, v.Require, httptest.NewRequest("POST", "/?token="+token, nil))
	if status != 503 || ran {
		t.Fatalf("status %d, ran %v; want 503 and not run", status, ran)
	}
}

// Behind API Gateway a REST function answers only the gateway, and reads the client's
// token where the gateway moved it.
func TestGateway(t *testing.T) {
	t.Parallel()
	g := pushauthtest.NewGoogle(t)
	const gateway = "api-gateway@project.iam.gserviceaccount.com"
	gw, err := pushauth.NewGateway(t.Context(), service, gateway, g.Option())
	if err != nil {
		t.Fatal(err)
	}
	viaGateway := g.Token(t, pushauthtest.Claims{Audience: service, Email: gateway})
	tests := []struct {
		name, bearer, forwarded string
		status                  int
		wantAuth                string
	}{
		{"through the gateway, signed in", viaGateway, "Bearer user-token", 200, "Bearer user-token"},
		{"through the gateway, anonymous", viaGateway, "", 200, ""},
		{"around the gateway with a user token", "user-token", "", 401, ""},
		{"around the gateway, forging the forwarded header", "", "Bearer user-token", 401, ""},
		{"another service account's token", g.Token(t, pushauthtest.Claims{Audience: service, Email: stranger}), "Bearer user-token", 403, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req := httptest.NewRequest("GET", "/api/v1/users/me", nil)
			if tt.bearer != "" {
				req.Header.Set("Authorization", "Bearer "+tt.bearer)
			}
			if tt.forwarded != "" {
				req.Header.Set("X-Forwarded-Authorization", tt.forwarded)
			}
			var got http.Header
			rec := httptest.NewRecorder()
			gw.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got = r.Header })).ServeHTTP(rec, req)
			if rec.Code != tt.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, tt.status, rec.Body)
			}
			if tt.status != 200 {
				if got != nil {
					t.Fatal("the function ran")
				}
				return
			}
			if got.Get("Authorization") != tt.wantAuth || got.Get("X-Forwarded-Authorization") != "" {
				t.Fatalf("function saw Authorization %q, X-Forwarded-Authorization %q", got.Get("Authorization"), got.Get("X-Forwarded-Authorization"))
			}
		})
	}
}

func TestURLAndRedact(t *testing.T) {
	t.Parallel()
	u, err := pushauth.URL("http://127.0.0.1:9000/internal/functions/x?a=1", token)
	if err != nil {
		t.Fatal(err)
	}
	if u != "http://127.0.0.1:9000/internal/functions/x?a=1&token="+token {
		t.Fatalf("URL = %s", u)
	}
	if r := pushauth.Redact(u); strings.Contains(r, token) {
		t.Fatalf("Redact kept the token: %s", r)
	}
}
