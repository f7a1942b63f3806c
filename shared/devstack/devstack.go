// Package devstack assembles the whole platform in one process, as `make dev` runs it and
// as end-to-end tests start it: the database (created and migrated), every registered
// function behind its /api/v1 route on one origin, the chat server behind /api/v1/chat/,
// and /healthz once everything is ready.
package devstack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	chatserver "github.com/8949market/market/chat-server"
	_ "github.com/8949market/market/functions/all" // every function registers itself
	"github.com/8949market/market/migrations"
	relay "github.com/8949market/market/outbox-relay"
	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/config"
	"github.com/8949market/market/shared/devstack/objectstore"
	"github.com/8949market/market/shared/platform"
	"github.com/8949market/market/shared/postgres"
	"github.com/8949market/market/shared/pushauth"
	"github.com/8949market/market/shared/registry"
	"github.com/8949market/market/shared/router"
	"github.com/8949market/market/shared/serve"
	"github.com/8949market/market/shared/users"
)

// Options say where the stack listens.
type Options struct {
	Config     config.Config
	Listen     string // the API origin, e.g. ":8080" or "127.0.0.1:0"
	ChatListen string // the chat server, e.g. ":8081" or "127.0.0.1:0"
	// NoSchedules leaves scheduled functions to the caller: tests run products-tick
	// themselves (POST /internal/functions/<name>) so the clock never moves a row under
	// an assertion.
	NoSchedules bool
	// Debug is served on the API origin (router.Options.Debug).
	Debug map[string]http.Handler
}

// Stack is a running platform.
type Stack struct {
	URL     string // the API origin
	ChatURL string // the chat server
	Kit     *platform.Kit

	api, chat   *serve.Server
	chatServer  *chatserver.Server
	backbone    *backbone
	ready       atomic.Bool
	drain       time.Duration
	noSchedules bool
	lostBefore  time.Time     // the database's clock at Start
	recovered   chan struct{} // closed when redeliverLost is done
	redelivered relay.Reconciled
}

// Start prepares the database and binds the servers; Run serves them.
func Start(ctx context.Context, opts Options) (*Stack, error) {
	cfg := opts.Config
	if cfg.PushAuth == "" {
		// The stack's own deliveries (bridge, scheduler) carry a credential only it knows.
		cfg.PushAuth, cfg.PushToken = "token", auth.NewTokenID()+auth.NewTokenID()
	}
	if err := registry.Validate(); err != nil {
		return nil, fmt.Errorf("function registry: %w", err)
	}
	// The API origin is bound first: with the local file storage, the upload and photo
	// URLs the functions hand out point at it (its /storage/ stand-in).
	front := new(lateHandler)
	apiServer, err := serve.Listen(opts.Listen, front)
	if err != nil {
		return nil, err
	}
	if cfg.StorageBackend == "local" {
		cfg.StorageURL = apiServer.URL() + "/storage"
		if cfg.StorageSigningKey == "" {
			cfg.StorageSigningKey = auth.NewTokenID() + auth.NewTokenID()
		}
	}
	if err := postgres.EnsureDatabase(ctx, cfg.DatabaseURL); err != nil {
		return nil, fmt.Errorf("database %s: %w", config.Redact(cfg.DatabaseURL), err)
	}
	kit, err := platform.New(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if err := kit.Redis.Ping(ctx).Err(); err != nil {
		kit.Close()
		return nil, fmt.Errorf("redis %s: %w", config.Redact(cfg.RedisURL), err)
	}
	applied, err := migrations.Up(ctx, kit.DB)
	if err != nil {
		kit.Close()
		return nil, err
	}
	slog.InfoContext(ctx, "database ready", "database", config.Redact(cfg.DatabaseURL), "migrationsApplied", applied)
	if err := users.BootstrapConfigured(ctx, kit.DB, cfg); err != nil {
		kit.Close()
		return nil, err
	}
	slog.InfoContext(ctx, "redis ready", "redis", config.Redact(cfg.RedisURL))

	if err := registry.Servable(kit, registry.All()...); err != nil {
		kit.Close()
		return nil, err
	}
	s := &Stack{Kit: kit, drain: cfg.ShutdownTimeout, noSchedules: opts.NoSchedules}
	s.chatServer = chatserver.New(kit)
	s.chat, err = serve.Listen(opts.ChatListen, s.chatServer.Handler())
	if err != nil {
		s.chatServer.Shutdown(ctx)
		kit.Close()
		return nil, err
	}
	s.ChatURL = s.chat.URL()
	chatTarget, _ := url.Parse(s.ChatURL)
	s.api, s.URL = apiServer, apiServer.URL()
	if s.backbone, err = newBackbone(ctx, cfg, kit.DB, s.endpoints()); err != nil {
		kit.Close()
		return nil, err
	}
	var files http.Handler
	if cfg.StorageBackend == "local" {
		if files, err = localStorage(kit, objectstore.Announcer(s.backbone.pub, cfg.TopicPrefix)); err != nil {
			s.backbone.close()
			kit.Close()
			return nil, err
		}
	}
	front.set(router.New(kit, registry.All(), router.Options{Chat: chatTarget, Ready: s.ready.Load, Debug: opts.Debug, Storage: files}))
	// Taken before anything is published: what was sent before it and is not recorded
	// was lost with the previous run's broker (see redeliverLost). The first of each
	// aggregate goes now, before the relay publishes what the outbox holds.
	if s.lostBefore, err = s.backbone.relay.Now(ctx); err == nil {
		s.redelivered, _, err = s.backbone.relay.Reconcile(ctx, time.Time{}, s.lostBefore)
	}
	if err != nil {
		s.backbone.close()
		kit.Close()
		return nil, fmt.Errorf("redelivery at start: %w", err)
	}
	s.recovered = make(chan struct{})
	return s, nil
}

// redeliverLost publishes again what the consumers had not recorded when the previous run
// ended. The embedded brokers keep their log in memory, so a stack that was killed (not
// stopped) lost every event it had sent and its consumers had not yet recorded; a real
// broker may have lost some too. Each aggregate's events go in write order, the next once
// its consumers have the one before (a reservation must exist before its product's
// cancellation reaches it). Each consumer dedupes through its inbox, so an event it
// already has changes nothing, and the relay's bound on redeliveries applies: an event no
// consumer ever takes ends FAILED and reported, not published at every start.
func (s *Stack) redeliverLost(ctx context.Context) {
	defer close(s.recovered)
	began := time.Now()
	res := s.redelivered // Start's pass
	if res.Waiting > 0 {
		more, err := s.backbone.relay.Recover(ctx, s.lostBefore, 100*time.Millisecond, 30*time.Second)
		if err != nil {
			if ctx.Err() == nil {
				slog.ErrorContext(ctx, "redelivery at start failed; the relay's reconciliation goes on", "error", err.Error())
			}
			return
		}
		res.Redelivered, res.GivenUp, res.Waiting = res.Redelivered+more.Redelivered, res.GivenUp+more.GivenUp, more.Waiting
	}
	s.redelivered = res
	// The fault suite waits for this line after a restart (level info).
	slog.InfoContext(ctx, "redelivery at start done", "redelivered", res.Redelivered, "givenUp", res.GivenUp,
		"waiting", res.Waiting, "took", time.Since(began).Round(time.Millisecond))
}

// Run serves until ctx ends, then stops in an order that loses no event: the relay
// publishes what the outbox holds, the consumers catch up (the embedded brokers keep
// nothing across a restart), and only then do the servers drain and the brokers stop.
// Rows written after that stay in the outbox for the next start. A stack killed instead
// loses what its broker held; the next run publishes it again (redeliverLost).
func (s *Stack) Run(ctx context.Context) error {
	defer s.Kit.Close()
	defer s.backbone.close()
	relayCtx, stopRelay := context.WithCancel(context.WithoutCancel(ctx))
	deliverCtx, stopDelivery := context.WithCancel(context.WithoutCancel(ctx))
	serveCtx, stopServing := context.WithCancel(context.WithoutCancel(ctx))
	defer stopRelay()
	defer stopDelivery()
	defer stopServing()

	g := new(errgroup.Group)
	g.Go(func() error { return s.chatServer.Run(serveCtx, s.chat, s.drain) })
	g.Go(func() error { return s.api.Run(serveCtx, s.drain) })
	g.Go(func() error { return s.backbone.relay.Run(relayCtx) })
	g.Go(func() error { return s.backbone.run(deliverCtx) })
	go s.redeliverLost(relayCtx)
	if !s.noSchedules {
		g.Go(func() error { return Schedule(relayCtx, Jobs(registry.All(), s.endpoints())) })
	}
	s.ready.Store(true)

	failed := make(chan error, 1)
	go func() { failed <- g.Wait() }()
	select {
	case err := <-failed:
		return err // a component died on its own
	case <-ctx.Done():
	}
	s.ready.Store(false)
	slog.Info("stopping: publishing the outbox and letting consumers catch up")
	stopRelay()
	settleCtx, cancel := context.WithTimeout(context.Background(), 2*s.drain)
	if err := s.backbone.settle(settleCtx); err != nil {
		slog.Warn("stopped before every event was delivered; undelivered rows stay in the outbox", "error", err.Error())
	}
	cancel()
	stopDelivery()
	stopServing()
	return <-failed
}

// InternalURL is where the stack's deliveries reach the internal function name, with
// the stack's delivery credential: hosted functions on the chat server, the others on
// the API origin.
func (s *Stack) InternalURL(name string) string { return s.endpoints()(name) }

func (s *Stack) endpoints() func(name string) string {
	return func(name string) string {
		base := s.URL
		if f, ok := registry.Lookup(name); ok && f.Host == "chat-server" {
			base = s.ChatURL
		}
		u, err := pushauth.URL(base+"/internal/functions/"+name, s.Kit.Config.PushToken)
		if err != nil {
			panic(err) // the bases are the stack's own URLs
		}
		return u
	}
}

// Settle publishes everything in the outbox and waits until every consumer function has
// received it (tests use it to wait for asynchronous effects), what the previous run's
// broker lost included.
func (s *Stack) Settle(ctx context.Context) error {
	select {
	case <-s.recovered:
	case <-ctx.Done():
		return ctx.Err()
	}
	return s.backbone.settle(ctx)
}

// Redelivered is what the run published again of what the previous run's broker lost,
// and what it gave up on; final once Settle has returned.
func (s *Stack) Redelivered() relay.Reconciled { return s.redelivered }

// Backbone names the backbone in use.
func (s *Stack) Backbone() string { return s.backbone.name }

// LocalAdmin returns the first administrator's credentials for local development, kept
// in dir (made on first use with a random password, mode 0600): there is no published
// default password, even locally.
func LocalAdmin(dir string) (username, password string, err error) {
	path := filepath.Join(dir, "bootstrap-admin.json")
	var creds struct {
		Username string `json:"username"`
		Password string `json:"password"`
	}
	raw, err := os.ReadFile(path)
	switch {
	case err == nil:
		if err := json.Unmarshal(raw, &creds); err != nil {
			return "", "", fmt.Errorf("%s: %w", path, err)
		}
	case errors.Is(err, fs.ErrNotExist):
		// 16 hex digits plus a symbol: inside the password rule, 64 bits of chance.
		creds.Username, creds.Password = "devmaster1", "Dv!"+auth.NewTokenID()[:16]
		if raw, err = json.Marshal(creds); err != nil {
			return "", "", fmt.Errorf("encode dev admin: %w", err)
		}
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return "", "", fmt.Errorf("create %s: %w", dir, err)
		}
		if err := os.WriteFile(path, raw, 0o600); err != nil {
			return "", "", fmt.Errorf("write dev admin: %w", err)
		}
	default:
		return "", "", fmt.Errorf("read dev admin: %w", err)
	}
	return creds.Username, creds.Password, nil
}

// LocalKeys returns the JWT signing key and public key set for local development, kept
// in dir (created on first use, mode 0600), so tokens survive a restart of make dev.
func LocalKeys(dir string) (signing, public string, err error) {
	path := filepath.Join(dir, "jwt-signing-key.json")
	raw, err := os.ReadFile(path)
	switch {
	case err == nil:
	case errors.Is(err, fs.ErrNotExist):
		key, err := auth.GenerateSigningKey("dev-" + time.Now().UTC().Format("20060102"))
		if err != nil {
			return "", "", err
		}
		if raw, err = json.Marshal(key.Private()); err != nil {
			return "", "", fmt.Errorf("encode dev key: %w", err)
		}
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return "", "", fmt.Errorf("create %s: %w", dir, err)
		}
		if err := os.WriteFile(path, raw, 0o600); err != nil {
			return "", "", fmt.Errorf("write dev key: %w", err)
		}
	default:
		return "", "", fmt.Errorf("read dev key: %w", err)
	}
	key, err := auth.ParseSigningKey(string(raw))
	if err != nil {
		return "", "", fmt.Errorf("%s: %w", path, err)
	}
	pub, err := json.Marshal(auth.JWKS{Keys: []auth.JWK{key.Public()}})
	if err != nil {
		return "", "", fmt.Errorf("encode dev public key: %w", err)
	}
	return string(raw), string(pub), nil
}

// lateHandler serves what set gives it; until then 503 (the origin is bound before the
// functions are built).
type lateHandler struct{ h atomic.Pointer[http.Handler] }

func (l *lateHandler) set(h http.Handler) { l.h.Store(&h) }

func (l *lateHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h := l.h.Load(); h != nil {
		(*h).ServeHTTP(w, r)
		return
	}
	http.Error(w, "starting", http.StatusServiceUnavailable)
}
