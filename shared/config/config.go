// Package config reads the platform's configuration from environment variables.
//
// Every setting has a default that runs locally, so an empty environment is a working
// development setup. Deployed services set the variables (Cloud Run env and Secret Manager).
package config

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/caarlos0/env/v11"
)

// Config is the whole platform's configuration. Each process reads all of it; a function
// uses the parts it needs.
type Config struct {
	// Port is where the process listens (Cloud Run sets PORT).
	Port int `env:"PORT" envDefault:"8080"`
	// DatabaseURL is the PostgreSQL DSN.
	DatabaseURL string `env:"DATABASE_URL" envDefault:"postgres://postgres:postgres@127.0.0.1:5432/market8949?sslmode=disable"`
	// DatabaseMaxConns caps the pool per process.
	DatabaseMaxConns int32 `env:"DATABASE_MAX_CONNS" envDefault:"20"`
	// RedisURL is the Redis URL.
	RedisURL string `env:"REDIS_URL" envDefault:"redis://127.0.0.1:6379/0"`

	// TopicPrefix is put before every topic name (docs/design.md §2).
	TopicPrefix string `env:"TOPIC_PREFIX" envDefault:"prod-"`
	// Backbone selects the stream: "kafka" or "pubsub".
	Backbone string `env:"BACKBONE" envDefault:"kafka"`
	// KafkaBrokers, when set, points at a real Kafka cluster instead of the embedded one.
	KafkaBrokers []string `env:"KAFKA_BROKERS" envSeparator:","`
	// KafkaTLS dials the brokers over TLS, verified against the system's roots.
	KafkaTLS bool `env:"KAFKA_TLS" envDefault:"false"`
	// KafkaSASL is how clients authenticate to the brokers: "none", "plain" (with
	// KafkaSASLUsername and KafkaSASLPassword) or "gcp" (OAUTHBEARER with the Google
	// credentials of the process, as Managed Service for Apache Kafka expects).
	KafkaSASL         string `env:"KAFKA_SASL" envDefault:"none"`
	KafkaSASLUsername string `env:"KAFKA_SASL_USERNAME"`
	KafkaSASLPassword string `env:"KAFKA_SASL_PASSWORD"`
	// PubSubEmulatorHost, when set, points at a Pub/Sub emulator instead of the in-process one.
	PubSubEmulatorHost string `env:"PUBSUB_EMULATOR_HOST"`
	// PubSubProject is the GCP project of the Pub/Sub topics.
	PubSubProject string `env:"PUBSUB_PROJECT_ID" envDefault:"market-8949-local"`

	// RelayBatchSize is how many outbox rows the relay claims at once.
	RelayBatchSize int `env:"RELAY_BATCH_SIZE" envDefault:"500"`
	// BridgeTargets says, for the push bridge (Kafka backbone), where each consumer
	// function is: a JSON object, inline or a file path, of consumer name to
	// {"topic", "url", "audience"} (topic without prefix; audience of its ID token under
	// BRIDGE_AUTH=oidc, default the url). Terraform writes it from the manifest.
	BridgeTargets string `env:"BRIDGE_TARGETS"`
	// BridgeAuth is how the bridge proves itself to the consumers: "oidc" (a Google ID
	// token for each target's audience, on GCP) or "token" (PUSH_TOKEN in the URL, locally).
	BridgeAuth string `env:"BRIDGE_AUTH" envDefault:"token"`
	// BridgeMaxAttempts, BridgeMinBackoff and BridgeMaxBackoff are the bridge's retry policy
	// per event before it is dead-lettered: the defaults are the push subscriptions'
	// (Terraform var.delivery), so a consumer restarting for minutes loses nothing.
	BridgeMaxAttempts int           `env:"BRIDGE_MAX_ATTEMPTS" envDefault:"10"`
	BridgeMinBackoff  time.Duration `env:"BRIDGE_MIN_BACKOFF" envDefault:"10s"`
	BridgeMaxBackoff  time.Duration `env:"BRIDGE_MAX_BACKOFF" envDefault:"600s"`

	// JWTPublicKeys is a JWKS document (JSON) or a path to one: every key that may have
	// signed a live token. Several keys may be active at once so keys can rotate.
	JWTPublicKeys string `env:"JWT_PUBLIC_KEYS"`
	// JWTSigningKey is a private JWK (JSON) or a path to one. Only the auth functions need it.
	JWTSigningKey string `env:"JWT_SIGNING_KEY"`
	// AccessTokenTTL is the lifetime of an access token.
	AccessTokenTTL time.Duration `env:"ACCESS_TOKEN_TTL" envDefault:"15m"`
	// RefreshTokenTTL is the lifetime of a refresh token family member.
	RefreshTokenTTL time.Duration `env:"REFRESH_TOKEN_TTL" envDefault:"168h"`

	// BcryptCost is the password hashing cost (at least 10).
	BcryptCost int `env:"BCRYPT_COST" envDefault:"10"`
	// BootstrapAdminUsername and BootstrapAdminPassword, when both set, make startup create
	// that MASTER account if it does not exist. There is no default password.
	BootstrapAdminUsername string `env:"BOOTSTRAP_ADMIN_USERNAME"`
	BootstrapAdminPassword string `env:"BOOTSTRAP_ADMIN_PASSWORD"`
	// LoginWindow is the rate-limit window of login attempts.
	LoginWindow time.Duration `env:"LOGIN_RATE_WINDOW" envDefault:"15m"`
	// LoginMaxFailures is how many failed logins one username may have per window.
	LoginMaxFailures int64 `env:"LOGIN_MAX_FAILURES" envDefault:"10"`
	// LoginMaxPerClient is how many login attempts one client address may make per window.
	LoginMaxPerClient int64 `env:"LOGIN_MAX_PER_CLIENT" envDefault:"100"`
	// TrustedProxyHops is how many proxies in front of the service append to
	// X-Forwarded-For; the client address is the entry that many from the right. 0 uses
	// the connection's address.
	TrustedProxyHops int `env:"TRUSTED_PROXY_HOPS" envDefault:"0"`

	// PaymentWindow is how long a selected buyer has to pay before the next applicant is
	// promoted.
	PaymentWindow time.Duration `env:"PAYMENT_WINDOW" envDefault:"60m"`

	// MaxBodyBytes caps every JSON request body.
	MaxBodyBytes int64 `env:"MAX_BODY_BYTES" envDefault:"1048576"`
	// ShutdownTimeout bounds the drain on SIGTERM.
	ShutdownTimeout time.Duration `env:"SHUTDOWN_TIMEOUT" envDefault:"10s"`

	// LogLevel is debug, info, warn or error.
	LogLevel string `env:"LOG_LEVEL" envDefault:"info"`
	// LogFormat is json (Cloud Logging fields) or text.
	LogFormat string `env:"LOG_FORMAT" envDefault:"json"`
	// GCPProject names the project in trace links of log entries; empty locally.
	GCPProject string `env:"GOOGLE_CLOUD_PROJECT"`

	// ChatServerURL is where the dev router proxies /api/v1/chat/.
	ChatServerURL string `env:"CHAT_SERVER_URL" envDefault:"http://127.0.0.1:8081"`
	// ChatPort is where the dev stack's chat-server listens.
	ChatPort int `env:"CHAT_PORT" envDefault:"8081"`
	// ChatMaxConnsPerUser caps one user's open chat connections across replicas.
	ChatMaxConnsPerUser int64 `env:"CHAT_MAX_CONNS_PER_USER" envDefault:"5"`
	// ChatMessagesPerSecond and ChatBurst limit the frames one connection may send.
	ChatMessagesPerSecond float64 `env:"CHAT_MESSAGES_PER_SECOND" envDefault:"5"`
	ChatBurst             int     `env:"CHAT_BURST" envDefault:"10"`
	// ChatPingInterval is how often an idle connection is pinged; no pong within
	// ChatWriteTimeout closes it.
	ChatPingInterval time.Duration `env:"CHAT_PING_INTERVAL" envDefault:"30s"`
	// ChatWriteTimeout bounds every write, so a client that stops reading cannot hold a
	// room's delivery.
	ChatWriteTimeout time.Duration `env:"CHAT_WRITE_TIMEOUT" envDefault:"5s"`
	// ChatSendBuffer is how many frames may wait for a slow client before it is cut off
	// (it reconnects with its last id and misses nothing).
	ChatSendBuffer int `env:"CHAT_SEND_BUFFER" envDefault:"256"`
	// CORSAllowedOrigins are the browser origins (exact, "https://app.example.com") whose
	// pages may call the API and open the chat WebSocket from another origin: the REST
	// functions' and the chat server's CORS and the WebSocket's origin check read this
	// one list, so they agree. None by default: a deployment opts in to cross-origin
	// browser access; make dev allows its local front-end servers.
	CORSAllowedOrigins []string `env:"CORS_ALLOWED_ORIGINS" envSeparator:","`
	// PushAuth is how internal endpoints (event and scheduled functions, wherever they are
	// served) check their callers: "oidc" on GCP (a Google ID token for ServiceURL from one
	// of PushInvokers), "token" locally (PushToken in the endpoint URL). Unset, a process
	// that serves an internal endpoint refuses to start: there is no anonymous mode.
	PushAuth string `env:"PUSH_AUTH"`
	// PushToken is the local delivery credential (PUSH_AUTH=token), at least 32 characters.
	PushToken string `env:"PUSH_TOKEN"`
	// PushInvokers are the service account emails allowed to call internal endpoints.
	PushInvokers []string `env:"PUSH_INVOKERS" envSeparator:","`
	// ServiceURL is this service's own URL: the audience of the ID tokens minted for it
	// (push subscriptions, Cloud Scheduler, the bridge and API Gateway).
	ServiceURL string `env:"SERVICE_URL"`
	// GatewayInvoker, when set, is API Gateway's service account: a REST function then
	// answers only calls carrying the gateway's ID token (so nobody reaches it around the
	// gateway and its X-Forwarded-For can be trusted) and reads the client's access token
	// from X-Forwarded-Authorization, where the gateway moves it.
	GatewayInvoker string `env:"GATEWAY_INVOKER"`
	// StorageBackend is where files live: "gcs" (Cloud Storage, on GCP) or "local" (a
	// directory, with upload URLs the dev stack's stand-in serves and checks).
	StorageBackend string `env:"STORAGE_BACKEND" envDefault:"local"`
	// UploadsBucket receives the clients' uploads (private; a lifecycle rule deletes what
	// is left); PhotosBucket holds the processed photos (public read).
	UploadsBucket string `env:"UPLOADS_BUCKET" envDefault:"uploads"`
	PhotosBucket  string `env:"PHOTOS_BUCKET" envDefault:"photos"`
	// PhotosURL is the public base URL of PhotosBucket's objects: a CDN's host when one is
	// in front; by default https://storage.googleapis.com/<PHOTOS_BUCKET> on GCS and the
	// stand-in's STORAGE_URL/<PHOTOS_BUCKET> locally.
	PhotosURL string `env:"PHOTOS_URL"`
	// StorageSigner is the service account that signs upload URLs (through the IAM
	// Credentials API's signBlob: no key file); empty means the account the process runs
	// as, from the metadata server.
	StorageSigner string `env:"STORAGE_SIGNER"`
	// StorageDir is the local backend's directory, shared by every process of a local stack.
	StorageDir string `env:"STORAGE_DIR" envDefault:".dev/storage"`
	// StorageURL is where the local backend's stand-in for Cloud Storage is served: the
	// base of its signed upload URLs and of PhotosURL.
	StorageURL string `env:"STORAGE_URL" envDefault:"http://127.0.0.1:8080/storage"`
	// StorageSigningKey is the local backend's URL signing key (at least 32 characters);
	// the dev stacks make one.
	StorageSigningKey string `env:"STORAGE_SIGNING_KEY"`
	// ListenHost is the interface servers bind; empty means every interface, as containers
	// need. make dev binds 127.0.0.1 unless it is set.
	ListenHost string `env:"LISTEN_HOST"`
}

// PhotosBase is the public base URL of the photos: PhotosURL, or the backend's own.
func (c Config) PhotosBase() string {
	switch {
	case c.PhotosURL != "":
		return strings.TrimSuffix(c.PhotosURL, "/")
	case c.StorageBackend == "gcs":
		return "https://storage.googleapis.com/" + c.PhotosBucket
	default:
		return strings.TrimSuffix(c.StorageURL, "/") + "/" + c.PhotosBucket
	}
}

// Load reads the configuration from the environment.
func Load() (Config, error) {
	return Parse(nil)
}

// Parse reads the configuration from environ (KEY=VALUE pairs); nil means the process
// environment. Tests use it to configure without touching the process environment.
func Parse(environ map[string]string) (Config, error) {
	var c Config
	opts := env.Options{}
	if environ != nil {
		opts.Environment = environ
	}
	err := env.ParseWithOptions(&c, opts)
	if err != nil {
		return Config{}, fmt.Errorf("read configuration: %w", err)
	}
	if c.Backbone != "kafka" && c.Backbone != "pubsub" {
		return Config{}, fmt.Errorf("read configuration: BACKBONE must be kafka or pubsub, got %q", c.Backbone)
	}
	if err := c.checkKafkaAuth(); err != nil {
		return Config{}, fmt.Errorf("read configuration: %w", err)
	}
	if err := c.checkPushAuth(); err != nil {
		return Config{}, fmt.Errorf("read configuration: %w", err)
	}
	if c.CORSAllowedOrigins, err = origins(c.CORSAllowedOrigins); err != nil {
		return Config{}, fmt.Errorf("read configuration: %w", err)
	}
	if c.StorageBackend != "gcs" && c.StorageBackend != "local" {
		return Config{}, fmt.Errorf("read configuration: STORAGE_BACKEND must be gcs or local, got %q", c.StorageBackend)
	}
	if c.BcryptCost < 10 || c.BcryptCost > 31 {
		return Config{}, fmt.Errorf("read configuration: BCRYPT_COST must be 10 to 31, got %d", c.BcryptCost)
	}
	return c, nil
}

// origins trims the CORS_ALLOWED_ORIGINS entries and refuses one a browser would never
// send: the check is an exact match against the Origin header, which is the serialized
// origin (lowercase scheme and host, no path, the default port left out), so anything
// else, a wildcard included, would silently allow nothing.
func origins(raw []string) ([]string, error) {
	var out []string
	for _, o := range raw {
		o = strings.TrimSpace(o)
		if o == "" {
			continue
		}
		if strings.ContainsAny(o, "*?") {
			return nil, fmt.Errorf("CORS_ALLOWED_ORIGINS: %q: list exact origins, no wildcards", o)
		}
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("CORS_ALLOWED_ORIGINS: %q is not an origin (scheme://host[:port])", o)
		}
		canonical := u.Scheme + "://" + strings.ToLower(u.Host)
		if port := u.Port(); (u.Scheme == "http" && port == "80") || (u.Scheme == "https" && port == "443") {
			canonical = u.Scheme + "://" + strings.ToLower(u.Hostname())
		}
		if o != canonical {
			return nil, fmt.Errorf("CORS_ALLOWED_ORIGINS: %q is not an origin as browsers send it; write %q", o, canonical)
		}
		out = append(out, o)
	}
	return out, nil
}

// MinPushTokenLength is the shortest PUSH_TOKEN accepted: guessing it must be hopeless.
const MinPushTokenLength = 32

// checkPushAuth refuses internal-endpoint settings that could not verify a caller.
func (c Config) checkPushAuth() error {
	switch c.PushAuth {
	case "":
	case "token":
		if len(c.PushToken) < MinPushTokenLength {
			return fmt.Errorf("PUSH_AUTH=token needs a PUSH_TOKEN of at least %d characters", MinPushTokenLength)
		}
	case "oidc":
		if c.ServiceURL == "" || len(c.PushInvokers) == 0 {
			return errors.New("PUSH_AUTH=oidc needs SERVICE_URL (the token audience) and PUSH_INVOKERS")
		}
	default:
		return fmt.Errorf("PUSH_AUTH must be oidc or token, got %q", c.PushAuth)
	}
	if c.GatewayInvoker != "" && c.ServiceURL == "" {
		return errors.New("GATEWAY_INVOKER needs SERVICE_URL (the audience of the gateway's tokens)")
	}
	if c.BridgeAuth != "oidc" && c.BridgeAuth != "token" {
		return fmt.Errorf("BRIDGE_AUTH must be oidc or token, got %q", c.BridgeAuth)
	}
	if c.BridgeMaxAttempts < 1 || c.BridgeMinBackoff <= 0 || c.BridgeMaxBackoff < c.BridgeMinBackoff {
		return errors.New("BRIDGE_MAX_ATTEMPTS must be at least 1 and 0 < BRIDGE_MIN_BACKOFF <= BRIDGE_MAX_BACKOFF")
	}
	return nil
}

// checkKafkaAuth refuses the Kafka security settings that cannot connect, so the mistake
// shows at startup rather than as a broker refusing every connection.
func (c Config) checkKafkaAuth() error {
	plainCreds := c.KafkaSASLUsername != "" || c.KafkaSASLPassword != ""
	switch c.KafkaSASL {
	case "none", "gcp":
		if plainCreds {
			return fmt.Errorf("KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD need KAFKA_SASL=plain, got %q", c.KafkaSASL)
		}
	case "plain":
		if c.KafkaSASLUsername == "" || c.KafkaSASLPassword == "" {
			return errors.New("KAFKA_SASL=plain needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD")
		}
	default:
		return fmt.Errorf("KAFKA_SASL must be none, plain or gcp, got %q", c.KafkaSASL)
	}
	// Managed Service for Apache Kafka, the only gcp cluster, accepts no plaintext.
	if c.KafkaSASL == "gcp" && !c.KafkaTLS {
		return errors.New("KAFKA_SASL=gcp needs KAFKA_TLS=true")
	}
	return nil
}

// Redact returns a URL with its password replaced, for logs.
func Redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparseable url)"
	}
	return u.Redacted()
}
