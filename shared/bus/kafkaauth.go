package bus

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"path"
	"strings"
	"time"

	"cloud.google.com/go/compute/metadata"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/oauth"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/google"

	"github.com/8949market/market/shared/config"
)

// KafkaAuth returns the client options that secure a connection to cfg's Kafka: TLS with
// KAFKA_TLS, and the SASL mechanism KAFKA_SASL names. It returns none for a plaintext
// cluster without authentication (the embedded one, a local broker). Every client of the
// real backbone takes them, the relay's producer and the push bridge alike:
//
//	opts, err := bus.KafkaAuth(ctx, cfg)
//	k, err := bus.NewKafka(cfg.KafkaBrokers, opts...)
func KafkaAuth(ctx context.Context, cfg config.Config) ([]kgo.Opt, error) {
	var opts []kgo.Opt
	if cfg.KafkaTLS {
		// franz-go puts each broker's host in ServerName, so the system roots verify it.
		opts = append(opts, kgo.DialTLSConfig(&tls.Config{MinVersion: tls.VersionTLS12}))
	}
	switch cfg.KafkaSASL {
	case "plain":
		opts = append(opts, kgo.SASL(plain.Auth{User: cfg.KafkaSASLUsername, Pass: cfg.KafkaSASLPassword}.AsMechanism()))
	case "gcp":
		// The token source outlives ctx: it refreshes for as long as the clients run.
		creds, err := google.FindDefaultCredentials(context.WithoutCancel(ctx), "https://www.googleapis.com/auth/cloud-platform")
		if err != nil {
			return nil, fmt.Errorf("kafka sasl gcp: %w", err)
		}
		principal, err := googlePrincipal(ctx, creds)
		if err != nil {
			return nil, fmt.Errorf("kafka sasl gcp: %w", err)
		}
		opts = append(opts, kgo.SASL(googleOAuth(creds.TokenSource, principal)))
	}
	return opts, nil
}

// googleOAuth is the OAUTHBEARER mechanism of Managed Service for Apache Kafka: every
// connection and reauthentication presents ts's current access token, wrapped for the
// broker by googleKafkaToken. ts caches the access token and refreshes it as it expires.
func googleOAuth(ts oauth2.TokenSource, principal string) sasl.Mechanism {
	ts = oauth2.ReuseTokenSource(nil, ts)
	return oauth.Oauth(func(context.Context) (oauth.Auth, error) {
		tok, err := ts.Token()
		if err != nil {
			return oauth.Auth{}, fmt.Errorf("google access token: %w", err)
		}
		return oauth.Auth{Token: googleKafkaToken(tok, principal, time.Now())}, nil
	})
}

// googleKafkaToken is tok in the form Managed Kafka's brokers accept over OAUTHBEARER,
// a JWT in shape only (nothing signs it; the broker checks the access token itself):
//
//	base64url({"typ":"JWT","alg":"GOOG_OAUTH2_TOKEN"}) . base64url({"exp","iat","iss":"Google","scope":"kafka","sub":principal}) . base64url(access token)
//
// Google's own clients build exactly this: GcpLoginCallbackHandler.getKafkaAccessToken
// (Java, with scope) and kafka_gcp_credentials_server.py (Python, with iss), both in
// github.com/googleapis/managedkafka; its test decodes the third part to the access token.
func googleKafkaToken(tok *oauth2.Token, principal string, now time.Time) string {
	exp := tok.Expiry
	if exp.IsZero() {
		exp = now.Add(time.Hour) // a source that gives no expiry; Google's tokens live an hour
	}
	claims, _ := json.Marshal(struct { // cannot fail: strings and integers
		Exp   int64  `json:"exp"`
		Iat   int64  `json:"iat"`
		Iss   string `json:"iss"`
		Scope string `json:"scope"`
		Sub   string `json:"sub"`
	}{exp.Unix(), now.Unix(), "Google", "kafka", principal})
	b64 := base64.RawURLEncoding.EncodeToString
	return b64([]byte(`{"typ":"JWT","alg":"GOOG_OAUTH2_TOKEN"}`)) + "." + b64(claims) + "." + b64([]byte(tok.AccessToken))
}

// googlePrincipal is the service account email of creds, which the broker takes as the
// client's principal: the key file's client_email, the impersonated account of gcloud's
// impersonation credentials, or the metadata server's default account (Cloud Run, GCE).
func googlePrincipal(ctx context.Context, creds *google.Credentials) (string, error) {
	if creds.JSON == nil {
		email, err := metadata.EmailWithContext(ctx, "default")
		if err != nil {
			return "", fmt.Errorf("service account email from the metadata server: %w", err)
		}
		return email, nil
	}
	var f struct {
		Type             string `json:"type"`
		ClientEmail      string `json:"client_email"`
		ImpersonationURL string `json:"service_account_impersonation_url"`
	}
	if err := json.Unmarshal(creds.JSON, &f); err != nil {
		return "", fmt.Errorf("read credentials: %w", err)
	}
	if f.ClientEmail != "" {
		return f.ClientEmail, nil
	}
	// .../serviceAccounts/EMAIL:generateAccessToken
	if email, ok := strings.CutSuffix(path.Base(f.ImpersonationURL), ":generateAccessToken"); ok && strings.Contains(email, "@") {
		return email, nil
	}
	return "", fmt.Errorf("%s credentials name no service account: use a key, impersonation or the attached account", f.Type)
}
