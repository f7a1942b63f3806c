package config_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/8949market/market/shared/config"
)

func TestKafkaAuth(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		env     map[string]string
		wantErr string // empty: valid
		tls     bool
		sasl    string
	}{
		{name: "defaults", env: map[string]string{}, sasl: "none"},
		{name: "tls without sasl", env: map[string]string{"KAFKA_TLS": "true"}, tls: true, sasl: "none"},
		{name: "plain", env: map[string]string{"KAFKA_SASL": "plain", "KAFKA_SASL_USERNAME": "relay", "KAFKA_SASL_PASSWORD": "s3cret"}, sasl: "plain"},
		{name: "plain over tls", env: map[string]string{"KAFKA_TLS": "true", "KAFKA_SASL": "plain", "KAFKA_SASL_USERNAME": "relay", "KAFKA_SASL_PASSWORD": "s3cret"}, tls: true, sasl: "plain"},
		{name: "gcp over tls", env: map[string]string{"KAFKA_TLS": "true", "KAFKA_SASL": "gcp"}, tls: true, sasl: "gcp"},
		{name: "plain without password", env: map[string]string{"KAFKA_SASL": "plain", "KAFKA_SASL_USERNAME": "relay"}, wantErr: "KAFKA_SASL=plain needs"},
		{name: "plain without username", env: map[string]string{"KAFKA_SASL": "plain", "KAFKA_SASL_PASSWORD": "s3cret"}, wantErr: "KAFKA_SASL=plain needs"},
		{name: "gcp without tls", env: map[string]string{"KAFKA_SASL": "gcp"}, wantErr: "KAFKA_SASL=gcp needs KAFKA_TLS=true"},
		{name: "gcp with tls off", env: map[string]string{"KAFKA_TLS": "false", "KAFKA_SASL": "gcp"}, wantErr: "KAFKA_SASL=gcp needs KAFKA_TLS=true"},
		{name: "password without plain", env: map[string]string{"KAFKA_SASL_PASSWORD": "s3cret"}, wantErr: "need KAFKA_SASL=plain"},
		{name: "username with gcp", env: map[string]string{"KAFKA_TLS": "true", "KAFKA_SASL": "gcp", "KAFKA_SASL_USERNAME": "relay"}, wantErr: "need KAFKA_SASL=plain"},
		{name: "unknown mechanism", env: map[string]string{"KAFKA_SASL": "scram"}, wantErr: "KAFKA_SASL must be none, plain or gcp"},
		{name: "tls not a bool", env: map[string]string{"KAFKA_TLS": "maybe"}, wantErr: `"KafkaTLS"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg, err := config.Parse(tc.env)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Parse(%v) error = %v, want one containing %q", tc.env, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse(%v): %v", tc.env, err)
			}
			if cfg.KafkaTLS != tc.tls || cfg.KafkaSASL != tc.sasl {
				t.Errorf("KafkaTLS %v, KafkaSASL %q; want %v, %q", cfg.KafkaTLS, cfg.KafkaSASL, tc.tls, tc.sasl)
			}
			if cfg.KafkaSASLUsername != tc.env["KAFKA_SASL_USERNAME"] || cfg.KafkaSASLPassword != tc.env["KAFKA_SASL_PASSWORD"] {
				t.Errorf("credentials %q / %q, want %q / %q", cfg.KafkaSASLUsername, cfg.KafkaSASLPassword,
					tc.env["KAFKA_SASL_USERNAME"], tc.env["KAFKA_SASL_PASSWORD"])
			}
		})
	}
}

// Internal endpoints are configured to verify their callers or not at all; the bridge's
// retry policy is sane.
func TestPushAuth(t *testing.T) {
	t.Parallel()
	token := strings.Repeat("a", config.MinPushTokenLength)
	cases := []struct {
		name    string
		env     map[string]string
		wantErr string
	}{
		{"unset: no internal endpoint may be served", map[string]string{}, ""},
		{"token", map[string]string{"PUSH_AUTH": "token", "PUSH_TOKEN": token}, ""},
		{"token too short", map[string]string{"PUSH_AUTH": "token", "PUSH_TOKEN": token[1:]}, "at least 32"},
		{"token missing", map[string]string{"PUSH_AUTH": "token"}, "at least 32"},
		{"oidc", map[string]string{"PUSH_AUTH": "oidc", "SERVICE_URL": "https://x.run.app", "PUSH_INVOKERS": "a@p.iam.gserviceaccount.com"}, ""},
		{"oidc without audience", map[string]string{"PUSH_AUTH": "oidc", "PUSH_INVOKERS": "a@p.iam.gserviceaccount.com"}, "SERVICE_URL"},
		{"oidc without invokers", map[string]string{"PUSH_AUTH": "oidc", "SERVICE_URL": "https://x.run.app"}, "PUSH_INVOKERS"},
		{"none is not a mode", map[string]string{"PUSH_AUTH": "none"}, "PUSH_AUTH must be oidc or token"},
		{"gateway without audience", map[string]string{"GATEWAY_INVOKER": "gw@p.iam.gserviceaccount.com"}, "SERVICE_URL"},
		{"bridge auth unknown", map[string]string{"BRIDGE_AUTH": "none"}, "BRIDGE_AUTH must be oidc or token"},
		{"bridge backoff reversed", map[string]string{"BRIDGE_MIN_BACKOFF": "10m", "BRIDGE_MAX_BACKOFF": "1m"}, "BRIDGE_MIN_BACKOFF <= BRIDGE_MAX_BACKOFF"},
		{"bridge no attempts", map[string]string{"BRIDGE_MAX_ATTEMPTS": "0"}, "BRIDGE_MAX_ATTEMPTS"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := config.Parse(tc.env)
			if tc.wantErr == "" && err != nil {
				t.Fatalf("Parse(%v): %v", tc.env, err)
			}
			if tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("Parse(%v) error = %v, want one containing %q", tc.env, err, tc.wantErr)
			}
		})
	}
}

// CORS_ALLOWED_ORIGINS lists exact origins as browsers send them; none by default. An
// entry that no Origin header could equal is refused rather than silently matching nothing.
func TestCORSAllowedOrigins(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		value   string // "" leaves the variable unset
		want    []string
		wantErr string
	}{
		{name: "none by default"},
		{name: "one", value: "https://app.example.com", want: []string{"https://app.example.com"}},
		{name: "several, spaces and empties dropped", value: "http://localhost:5173, https://app.example.com:8443,,",
			want: []string{"http://localhost:5173", "https://app.example.com:8443"}},
		{name: "wildcard", value: "*", wantErr: "no wildcards"},
		{name: "wildcard host", value: "https://*.example.com", wantErr: "no wildcards"},
		{name: "no scheme", value: "app.example.com", wantErr: "is not an origin"},
		{name: "other scheme", value: "ftp://app.example.com", wantErr: "is not an origin"},
		{name: "trailing slash", value: "https://app.example.com/", wantErr: `write "https://app.example.com"`},
		{name: "path", value: "https://app.example.com/app", wantErr: `write "https://app.example.com"`},
		{name: "uppercase host", value: "https://App.example.com", wantErr: `write "https://app.example.com"`},
		{name: "default port", value: "https://app.example.com:443", wantErr: `write "https://app.example.com"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			env := map[string]string{}
			if tc.value != "" {
				env["CORS_ALLOWED_ORIGINS"] = tc.value
			}
			cfg, err := config.Parse(env)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Parse(%q) error = %v, want one containing %q", tc.value, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse(%q): %v", tc.value, err)
			}
			if !slices.Equal(cfg.CORSAllowedOrigins, tc.want) {
				t.Errorf("CORSAllowedOrigins = %q, want %q", cfg.CORSAllowedOrigins, tc.want)
			}
		})
	}
}
