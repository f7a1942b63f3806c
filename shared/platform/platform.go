// Package platform assembles what every function is given: configuration, the
// PostgreSQL pool, the Redis client and the token verifier. It knows no domain.
package platform

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/extra/redisotel/v9"
	"github.com/redis/go-redis/v9"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/config"
	"github.com/8949market/market/shared/postgres"
	"github.com/8949market/market/shared/pushauth"
	"github.com/8949market/market/shared/storage"
	"github.com/8949market/market/shared/telemetry"
)

// Kit is what a function is built from. One Kit serves every function of a process.
type Kit struct {
	Config   config.Config
	DB       *pgxpool.Pool
	Redis    *redis.Client
	Verifier *auth.Verifier
	Denylist *auth.Denylist
	// Revocations is the in-memory copy of the denylist the verifier consults; Close
	// stops it.
	Revocations *auth.Revocations
	// Signer signs access tokens; nil unless JWT_SIGNING_KEY is set, which only the
	// functions registered as signing need.
	Signer *auth.Signer
	// Push checks the callers of internal endpoints (event and scheduled functions).
	Push *pushauth.Verifier
	// Gateway, when GATEWAY_INVOKER is set, admits REST calls only through API Gateway.
	Gateway *pushauth.Gateway

	stopRevocations func()
	poolMetrics     metric.Registration

	bucketsOnce     sync.Once
	uploads, photos storage.Bucket
	bucketsErr      error
}

// Buckets are the platform's buckets (shared/storage: Cloud Storage, or the local
// directory), opened on first use: most functions never touch them.
func (k *Kit) Buckets() (uploads, photos storage.Bucket, err error) {
	k.bucketsOnce.Do(func() {
		// Their own context: the client lives as long as the kit.
		k.uploads, k.photos, k.bucketsErr = storage.Open(context.Background(), k.Config)
	})
	return k.uploads, k.photos, k.bucketsErr
}

// New connects the kit's clients and starts following the denylist; opts reach the ID
// token checks (tests serve their own Google certificates). Connections are made
// on first use, so New is fast and does not fail when a dependency is briefly away: until
// the revocations mirror is in step, the verifier asks Redis on every request.
func New(ctx context.Context, cfg config.Config, opts ...pushauth.Option) (*Kit, error) {
	keys, err := publicKeys(cfg)
	if err != nil {
		return nil, err
	}
	push, err := pushauth.New(ctx, cfg, opts...)
	if err != nil {
		return nil, err
	}
	var gateway *pushauth.Gateway
	if cfg.GatewayInvoker != "" {
		if gateway, err = pushauth.NewGateway(ctx, cfg.ServiceURL, cfg.GatewayInvoker, opts...); err != nil {
			return nil, err
		}
	}
	var signer *auth.Signer
	if cfg.JWTSigningKey != "" {
		key, err := auth.ParseSigningKey(cfg.JWTSigningKey)
		if err != nil {
			return nil, fmt.Errorf("JWT_SIGNING_KEY: %w", err)
		}
		if _, ok := keys[key.Kid]; !ok {
			return nil, fmt.Errorf("JWT_SIGNING_KEY: kid %q is not among JWT_PUBLIC_KEYS, so its tokens would not verify", key.Kid)
		}
		signer = auth.NewSigner(key)
	}
	db, err := postgres.Connect(ctx, cfg.DatabaseURL, cfg.DatabaseMaxConns)
	if err != nil {
		return nil, err
	}
	ropts, err := redis.ParseURL(cfg.RedisURL)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("parse redis url: %w", err)
	}
	rdb := redis.NewClient(ropts)
	// A span per command (pipelines as one) and the client's pool metrics; not redisotel's
	// histograms per command, which cost the admission path more than its spans do.
	poolMetrics, err := redisPoolMetrics(rdb)
	if err := errors.Join(redisotel.InstrumentTracing(rdb, redisotel.WithDBStatement(false)), err); err != nil {
		db.Close()
		return nil, fmt.Errorf("redis telemetry: %w", err)
	}
	// Revocations are kept in PostgreSQL too, so a Redis that comes back empty forgets none.
	deny := auth.NewDurableDenylist(rdb, db)
	revs := auth.NewRevocations(deny)
	// Its own context: the mirror lives as long as the kit, not as the caller's ctx.
	runCtx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		revs.Run(runCtx)
	}()
	return &Kit{
		Config:          cfg,
		DB:              db,
		Redis:           rdb,
		Verifier:        auth.NewVerifier(keys, revs),
		Denylist:        deny,
		Revocations:     revs,
		Signer:          signer,
		Push:            push,
		Gateway:         gateway,
		stopRevocations: func() { cancel(); <-done },
		poolMetrics:     poolMetrics,
	}, nil
}

// publicKeys reads the verification keys; with only a signing key configured, its public
// half is the one key.
func publicKeys(cfg config.Config) (auth.PublicKeys, error) {
	if cfg.JWTPublicKeys != "" {
		keys, err := auth.ParsePublicKeys(cfg.JWTPublicKeys)
		if err != nil {
			return nil, fmt.Errorf("JWT_PUBLIC_KEYS: %w", err)
		}
		return keys, nil
	}
	if cfg.JWTSigningKey != "" {
		key, err := auth.ParseSigningKey(cfg.JWTSigningKey)
		if err != nil {
			return nil, fmt.Errorf("JWT_SIGNING_KEY: %w", err)
		}
		return key.PublicKeys(), nil
	}
	return nil, errors.New("JWT_PUBLIC_KEYS is not set: give the JWKS of the token signing keys (make dev generates a local pair)")
}

// Close stops following the denylist and releases the kit's connections.
func (k *Kit) Close() {
	if k.stopRevocations != nil {
		k.stopRevocations()
	}
	if k.poolMetrics != nil {
		_ = k.poolMetrics.Unregister()
	}
	k.DB.Close()
	_ = k.Redis.Close()
}

// redisPoolMetrics reports the Redis client's pool as OpenTelemetry's semantic conventions
// name a client pool's connections: open ones by state, and waits that timed out.
func redisPoolMetrics(rdb *redis.Client) (metric.Registration, error) {
	pool := attribute.String("db.client.connection.pool.name", "redis")
	idle := metric.WithAttributes(pool, attribute.String("db.client.connection.state", "idle"))
	used := metric.WithAttributes(pool, attribute.String("db.client.connection.state", "used"))
	count, err := telemetry.Meter.Int64ObservableUpDownCounter("db.client.connection.count",
		metric.WithUnit("{connection}"), metric.WithDescription("Open connections of the Redis client's pool, by state."))
	if err != nil {
		return nil, err
	}
	timeouts, err := telemetry.Meter.Int64ObservableCounter("db.client.connection.timeouts",
		metric.WithUnit("{timeout}"), metric.WithDescription("Waits for a Redis connection that timed out."))
	if err != nil {
		return nil, err
	}
	return telemetry.Meter.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		s := rdb.PoolStats()
		o.ObserveInt64(count, int64(s.IdleConns), idle)
		o.ObserveInt64(count, int64(s.TotalConns)-int64(s.IdleConns), used)
		o.ObserveInt64(timeouts, int64(s.Timeouts), metric.WithAttributes(pool))
		return nil
	}, count, timeouts)
}
