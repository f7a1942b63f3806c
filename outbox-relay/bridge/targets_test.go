package bridge_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/8949market/market/outbox-relay/bridge"
	"github.com/8949market/market/shared/config"
)

// The relay's configured defaults are the bridge's: one retry policy, the push
// subscriptions'.
func TestDefaultsAreTheConfigDefaults(t *testing.T) {
	t.Parallel()
	cfg, err := config.Parse(map[string]string{})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.BridgeMaxAttempts != bridge.DefaultMaxAttempts || cfg.BridgeMinBackoff != bridge.DefaultBackoffBase || cfg.BridgeMaxBackoff != bridge.DefaultBackoffMax {
		t.Fatalf("config %d/%s/%s, bridge %d/%s/%s", cfg.BridgeMaxAttempts, cfg.BridgeMinBackoff, cfg.BridgeMaxBackoff,
			bridge.DefaultMaxAttempts, bridge.DefaultBackoffBase, bridge.DefaultBackoffMax)
	}
}

func TestParseTargets(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "targets.json")
	if err := os.WriteFile(file, []byte(`{"a-b": {"topic": "t1", "url": "http://x/"}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, raw, wantErr string
		want               map[string]bridge.Target
	}{
		{"inline, audience defaults to the url", `{"a-b": {"topic": "t1", "url": "http://x/"}}`, "", map[string]bridge.Target{"a-b": {Topic: "t1", URL: "http://x/", Audience: "http://x/"}}},
		{"audience kept", `{"a-b": {"topic": "t1", "url": "http://x/i/a-b", "audience": "http://x"}}`, "", map[string]bridge.Target{"a-b": {Topic: "t1", URL: "http://x/i/a-b", Audience: "http://x"}}},
		{"a file", file, "", map[string]bridge.Target{"a-b": {Topic: "t1", URL: "http://x/", Audience: "http://x/"}}},
		{"empty", "", "empty", nil},
		{"the old shape", `{"a-b": "http://x/"}`, "cannot unmarshal", nil},
		{"unknown field", `{"a-b": {"topic": "t1", "url": "http://x/", "token": "s"}}`, "unknown field", nil},
		{"no topic", `{"a-b": {"url": "http://x/"}}`, "needs a topic and a url", nil},
		{"no such file", filepath.Join(t.TempDir(), "none.json"), "no such file", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := bridge.ParseTargets(tc.raw)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.want) || got["a-b"] != tc.want["a-b"] {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}
