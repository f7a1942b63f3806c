package infra_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/zclconf/go-cty/cty"
)

// var.cors_allowed_origins reaches, as CORS_ALLOWED_ORIGINS, the services that serve
// browsers and only those: every REST function and the chat server. Unset, none of them
// allows a cross-origin page; an entry no browser could send is refused at plan time.
func TestCORSAllowedOrigins(t *testing.T) {
	t.Parallel()
	origins := []string{"https://app.example.com", "http://localhost:5173"}
	list := func(os ...string) cty.Value {
		if len(os) == 0 {
			return cty.ListValEmpty(cty.String)
		}
		vals := make([]cty.Value, len(os))
		for i, o := range os {
			vals[i] = cty.StringVal(o)
		}
		return cty.ListVal(vals)
	}
	for _, set := range [][]string{nil, origins} {
		t.Run(fmt.Sprintf("%d origins", len(set)), func(t *testing.T) {
			t.Parallel()
			var inputs map[string]cty.Value
			if set != nil {
				inputs = map[string]cty.Value{"cors_allowed_origins": list(set...)}
			}
			e := evaluateWith(t, "pubsub", inputs)
			check := func(what string, env map[string]envVar, browsers bool) {
				cfg := plainEnv(t, env)
				want := []string(nil)
				if browsers {
					want = set
				}
				if !slices.Equal(cfg.CORSAllowedOrigins, want) {
					t.Errorf("%s: CORS_ALLOWED_ORIGINS %q, want %q", what, cfg.CORSAllowedOrigins, want)
				}
			}
			for name, in := range e.instances(t, "google_cloud_run_v2_service.function") {
				check(name, in.env(t, "template", "containers"), in.each(t).GetAttr("kind").AsString() == "http")
			}
			check("chat-server", e.instances(t, "google_cloud_run_v2_service.chat")[""].env(t, "template", "containers"), true)
			check("outbox-relay", e.instances(t, "google_cloud_run_v2_service.relay")[""].env(t, "template", "containers"), false)
		})
	}
	for _, c := range []struct {
		origin string
		refuse bool
	}{
		{"https://app.example.com", false},
		{"http://localhost:5173", false},
		{"*", true},
		{"https://*.example.com", true},
		{"https://app.example.com/", true},
		{"https://App.example.com", true},
		{"app.example.com", true},
		{"https://app.example.com:443", true},
		{"https://app.example.com:8443", false},
	} {
		t.Run(c.origin, func(t *testing.T) {
			t.Parallel()
			e := evaluateWith(t, "pubsub", map[string]cty.Value{"cors_allowed_origins": list(c.origin)})
			if refused := refusedBy(t, e, "var.cors_allowed_origins"); (len(refused) > 0) != c.refuse {
				t.Errorf("refusals %v, want refused: %v", refused, c.refuse)
			}
		})
	}
}
