// Package testenv gives each test its own world on the real services: a fresh database
// cloned from a migrated template (so tests run in parallel and never see each other's
// rows), the shared Redis (tests use unique keys), and fresh signing keys.
//
//	cfg := testenv.Config(t) // isolated DATABASE_URL, REDIS_URL, JWT keys
//	pool := testenv.DB(t)
package testenv

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"

	"github.com/8949market/market/migrations"
	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/config"
	"github.com/8949market/market/shared/postgres"
)

// baseConfig is the configuration tests start from: the environment (TEST_DATABASE_URL
// wins over DATABASE_URL) with local defaults.
func baseConfig(t testing.TB) config.Config {
	t.Helper()
	cfg, err := config.Load()
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	if v := os.Getenv("TEST_DATABASE_URL"); v != "" {
		cfg.DatabaseURL = v
	}
	// Tests keep out of the dev stack's Redis database: their login counters and
	// revocations would otherwise throttle or confuse `make dev` on the same machine.
	if v := os.Getenv("TEST_REDIS_URL"); v != "" {
		cfg.RedisURL = v
	} else if u, err := url.Parse(cfg.RedisURL); err == nil {
		u.Path = "/15"
		cfg.RedisURL = u.String()
	}
	cfg.LogFormat = "text"
	return cfg
}

// Config returns a configuration with an isolated database, the shared Redis and a fresh
// key pair (inline JWKs), plus the signer that matches it.
func Config(t testing.TB) (config.Config, *auth.Signer) {
	t.Helper()
	cfg := baseConfig(t)
	cfg.DatabaseURL = DatabaseURL(t)
	key := Key(t)
	priv, _ := json.Marshal(key.Private())
	pub, _ := json.Marshal(auth.JWKS{Keys: []auth.JWK{key.Public()}})
	cfg.JWTSigningKey, cfg.JWTPublicKeys = string(priv), string(pub)
	cfg.ShutdownTimeout = 2 * time.Second
	// Every test client is 127.0.0.1 on one shared Redis, so a per-address login limit
	// would count all tests together; tests of that limit set TrustedProxyHops and send
	// an X-Forwarded-For address of their own.
	cfg.LoginMaxPerClient = 1 << 40
	// Internal endpoints verify their callers in every mode; tests deliver as the dev
	// stack does, with a credential in the URL.
	cfg.PushAuth, cfg.PushToken = "token", auth.NewTokenID()+auth.NewTokenID()
	// The local file storage of the test's own (the dev stack serves its URLs).
	cfg.StorageBackend, cfg.StorageDir = "local", t.TempDir()
	cfg.StorageSigningKey = auth.NewTokenID() + auth.NewTokenID()
	return cfg, auth.NewSigner(key)
}

// Key returns a fresh Ed25519 signing key with a unique kid.
func Key(t testing.TB) auth.SigningKey {
	t.Helper()
	key, err := auth.GenerateSigningKey("test-" + uuid.NewString()[:8])
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	return key
}

// DB returns a pool on a fresh, migrated database of the test's own.
func DB(t testing.TB) *pgxpool.Pool {
	t.Helper()
	return Connect(t, DatabaseURL(t))
}

// Connect returns a pool on dsn, closed when the test ends. Ten connections: enough for
// the concurrency tests (several blocked transactions plus one watcher).
func Connect(t testing.TB, dsn string) *pgxpool.Pool {
	t.Helper()
	pool, err := postgres.Connect(context.Background(), dsn, 10)
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// Redis returns a client on the shared Redis. Tests keep to keys of their own (ids they
// generate), so they can share it.
func Redis(t testing.TB) *redis.Client {
	t.Helper()
	opts, err := redis.ParseURL(baseConfig(t).RedisURL)
	if err != nil {
		t.Fatalf("testenv: redis url: %v", err)
	}
	rdb := redis.NewClient(opts)
	t.Cleanup(func() { _ = rdb.Close() })
	if err := rdb.Ping(context.Background()).Err(); err != nil {
		t.Fatalf("testenv: redis unreachable (run scripts/services.sh): %v", err)
	}
	return rdb
}

// DatabaseURL creates a fresh database cloned from the migrated template and drops it
// when the test ends. It returns its DSN.
func DatabaseURL(t testing.TB) string {
	t.Helper()
	return createDatabase(t, true)
}

// EmptyDatabaseURL creates a fresh database with no migrations applied (for migration
// tests) and drops it when the test ends.
func EmptyDatabaseURL(t testing.TB) string {
	t.Helper()
	return createDatabase(t, false)
}

func createDatabase(t testing.TB, migrated bool) string {
	t.Helper()
	ctx := context.Background()
	base := baseConfig(t).DatabaseURL
	admin, err := adminConn(ctx, base)
	if err != nil {
		t.Fatalf("testenv: %v (run scripts/services.sh)", err)
	}
	defer admin.Close(ctx)
	tmpl := "template0"
	if migrated {
		if tmpl, err = ensureTemplate(ctx, admin, base); err != nil {
			t.Fatalf("testenv: %v", err)
		}
	}
	name := "t_" + strings.ReplaceAll(uuid.NewString(), "-", "")[:20]
	if _, err := admin.Exec(ctx, fmt.Sprintf("CREATE DATABASE %s TEMPLATE %s", name, tmpl)); err != nil {
		t.Fatalf("testenv: create test database: %v", err)
	}
	t.Cleanup(func() {
		ctx := context.Background()
		c, err := adminConn(ctx, base)
		if err != nil {
			t.Logf("testenv: drop %s: %v", name, err)
			return
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Logf("testenv: drop %s: %v", name, err)
		}
	})
	return withDatabase(base, name)
}

func adminConn(ctx context.Context, dsn string) (*pgx.Conn, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("parse database url: %w", err)
	}
	cfg.Database = "postgres"
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect to postgres: %w", err)
	}
	return conn, nil
}

// ensureTemplate makes sure a database migrated to the current migrations exists and
// returns its name. The name carries a hash of the migration files, so a changed
// migration makes a new template; an advisory lock keeps parallel test binaries from
// building it twice.
func ensureTemplate(ctx context.Context, admin *pgx.Conn, base string) (string, error) {
	sum, err := migrationsHash()
	if err != nil {
		return "", err
	}
	name := "tmpl_market_" + sum
	if _, err := admin.Exec(ctx, "SELECT pg_advisory_lock(894908)"); err != nil {
		return "", fmt.Errorf("lock template: %w", err)
	}
	defer admin.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock(894908)") //nolint:errcheck // the session ends soon anyway
	var exists bool
	if err := admin.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil {
		return "", fmt.Errorf("look up template: %w", err)
	}
	if exists {
		return name, nil
	}
	// Templates of older migration sets are garbage now.
	rows, err := admin.Query(ctx, `SELECT datname FROM pg_database WHERE datname LIKE 'tmpl_market_%'`)
	if err != nil {
		return "", fmt.Errorf("list templates: %w", err)
	}
	old, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return "", fmt.Errorf("list templates: %w", err)
	}
	for _, o := range old {
		_, _ = admin.Exec(ctx, "DROP DATABASE IF EXISTS "+o+" WITH (FORCE)")
	}
	building := name + "_build"
	_, _ = admin.Exec(ctx, "DROP DATABASE IF EXISTS "+building+" WITH (FORCE)")
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+building); err != nil {
		return "", fmt.Errorf("create template: %w", err)
	}
	pool, err := postgres.Connect(ctx, withDatabase(base, building), 2)
	if err != nil {
		return "", err
	}
	_, err = migrations.Up(ctx, pool)
	pool.Close()
	if err != nil {
		return "", err
	}
	// Renamed only once complete, so a crash never leaves a half-built template in use.
	if _, err := admin.Exec(ctx, "ALTER DATABASE "+building+" RENAME TO "+name); err != nil {
		return "", fmt.Errorf("publish template: %w", err)
	}
	return name, nil
}

func migrationsHash() (string, error) {
	h := sha256.New()
	err := fs.WalkDir(migrations.FS(), ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(migrations.FS(), path)
		if err != nil {
			return err
		}
		h.Write([]byte(path))
		h.Write(b)
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("hash migrations: %w", err)
	}
	return hex.EncodeToString(h.Sum(nil))[:16], nil
}

// withDatabase returns the URL dsn pointing at database name instead.
func withDatabase(dsn, name string) string {
	u, err := url.Parse(dsn)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		// config and the scripts only produce URLs; a key=value DSN is a setup mistake.
		panic("testenv: DATABASE_URL must be a postgres:// URL, got " + config.Redact(dsn))
	}
	u.Path = "/" + name
	return u.String()
}

// Eventually polls cond until it holds, failing the test with what if it does not within
// the given time: how tests wait for asynchronous work, never by sleeping a fixed time.
func Eventually(t testing.TB, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, within)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
