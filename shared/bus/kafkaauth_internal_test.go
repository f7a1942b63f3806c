package bus

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/google"
)

// The OAUTHBEARER client message carries the token in the shape Google's own Kafka
// clients send (GcpLoginCallbackHandler in github.com/googleapis/managedkafka).
func TestGoogleOAuthToken(t *testing.T) {
	t.Parallel()
	const principal = "market-relay@proj.iam.gserviceaccount.com"
	expiry := time.Now().Add(42 * time.Minute).Truncate(time.Second)
	ts := oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "ya29.a0-test_token", Expiry: expiry})
	mech := googleOAuth(ts, principal)
	if mech.Name() != "OAUTHBEARER" {
		t.Fatalf("mechanism %s, want OAUTHBEARER", mech.Name())
	}

	before := time.Now().Unix()
	_, msg, err := mech.Authenticate(t.Context(), "bootstrap.example:9092")
	if err != nil {
		t.Fatal(err)
	}
	// RFC 7628 client-first message: gs2 header, then auth=Bearer <token>, ^A-separated.
	token, ok := strings.CutPrefix(string(msg), "n,,\x01auth=Bearer ")
	if !ok || !strings.HasSuffix(token, "\x01\x01") {
		t.Fatalf("client message %q is not an OAUTHBEARER initial response", msg)
	}
	parts := strings.Split(strings.TrimSuffix(token, "\x01\x01"), ".")
	if len(parts) != 3 {
		t.Fatalf("token %q has %d dot-separated parts, want 3", token, len(parts))
	}
	decode := func(part string) []byte {
		t.Helper()
		b, err := base64.RawURLEncoding.DecodeString(part)
		if err != nil {
			t.Fatalf("part %q is not unpadded base64url: %v", part, err)
		}
		return b
	}

	var header map[string]any
	if err := json.Unmarshal(decode(parts[0]), &header); err != nil {
		t.Fatal(err)
	}
	if len(header) != 2 || header["typ"] != "JWT" || header["alg"] != "GOOG_OAUTH2_TOKEN" {
		t.Errorf("header %v, want typ JWT and alg GOOG_OAUTH2_TOKEN", header)
	}

	var claims struct {
		Exp, Iat        int64
		Iss, Scope, Sub string
	}
	if err := json.Unmarshal(decode(parts[1]), &claims); err != nil {
		t.Fatal(err)
	}
	if claims.Exp != expiry.Unix() {
		t.Errorf("exp %d, want the access token's expiry %d", claims.Exp, expiry.Unix())
	}
	if claims.Iat < before || claims.Iat > time.Now().Unix() {
		t.Errorf("iat %d is not now", claims.Iat)
	}
	if claims.Iss != "Google" || claims.Scope != "kafka" || claims.Sub != principal {
		t.Errorf("iss %q, scope %q, sub %q; want Google, kafka, %s", claims.Iss, claims.Scope, claims.Sub, principal)
	}

	if got := string(decode(parts[2])); got != "ya29.a0-test_token" {
		t.Errorf("third part decodes to %q, want the access token", got)
	}
}

func TestGoogleOAuthTokenSourceFails(t *testing.T) {
	t.Parallel()
	cause := errors.New("metadata server unreachable")
	_, _, err := googleOAuth(failingSource{cause}, "p@x").Authenticate(t.Context(), "b:9092")
	if !errors.Is(err, cause) {
		t.Errorf("Authenticate error %v, want it to wrap %v", err, cause)
	}
}

type failingSource struct{ err error }

func (s failingSource) Token() (*oauth2.Token, error) { return nil, s.err }

// Credential files name their principal; the metadata server's credentials (JSON nil)
// need a server and are not covered here.
func TestGooglePrincipal(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, json, want string // want "": an error
	}{
		{"service account key", `{"type":"service_account","client_email":"relay@p.iam.gserviceaccount.com"}`, "relay@p.iam.gserviceaccount.com"},
		{"impersonation", `{"type":"impersonated_service_account","service_account_impersonation_url":"https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/relay@p.iam.gserviceaccount.com:generateAccessToken","source_credentials":{"type":"authorized_user"}}`, "relay@p.iam.gserviceaccount.com"},
		{"user credentials", `{"type":"authorized_user","client_id":"x","refresh_token":"y"}`, ""},
		{"not json", `{`, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := googlePrincipal(t.Context(), &google.Credentials{JSON: []byte(tc.json)})
			if tc.want == "" {
				if err == nil {
					t.Errorf("principal %q, want an error", got)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("principal %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}
