package instance

import (
	"context"
	"errors"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"
	"golang.org/x/sync/errgroup"
)

// More connections at once than the shared server's max_connections (100) allows.
func TestPostgresManyConnections(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	pg := Postgres(t)

	cfg, err := pgxpool.ParseConfig(pg.URL("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	const n = 150
	cfg.MaxConns = n
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)

	var maxConns string
	if err := pool.QueryRow(ctx, "SHOW max_connections").Scan(&maxConns); err != nil {
		t.Fatal(err)
	}
	if maxConns != "300" {
		t.Fatalf("max_connections = %s, want the default 300", maxConns)
	}

	began := time.Now()
	conns := make([]*pgxpool.Conn, n)
	var g errgroup.Group
	for i := range conns {
		g.Go(func() error {
			var err error
			conns[i], err = pool.Acquire(ctx)
			return err
		})
	}
	err = g.Wait()
	defer func() {
		for _, c := range conns {
			if c != nil {
				c.Release()
			}
		}
	}()
	if err != nil {
		t.Fatalf("open %d connections: %v", n, err)
	}
	var open int
	if err := conns[0].QueryRow(ctx, "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'").Scan(&open); err != nil {
		t.Fatal(err)
	}
	if open < n {
		t.Fatalf("%d client connections open, want %d", open, n)
	}
	t.Logf("%d connections open in %v", open, time.Since(began).Round(time.Millisecond))
}

// Data survives a crash and a graceful stop; a restart keeps the port.
func TestPostgresRestart(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	pg := Postgres(t, MaxConnections(40), Setting("statement_timeout", "5s"))
	for name, want := range map[string]string{"max_connections": "40", "statement_timeout": "5s"} {
		if got := show(t, pg.URL("postgres"), name); got != want {
			t.Fatalf("%s = %s, want %s", name, got, want)
		}
	}

	dsn := pg.Migrated(t, "market")
	var version int64
	query(t, dsn, "SELECT max(version_id) FROM goose_db_version", &version)
	if version < 1 {
		t.Fatalf("migration version %d after Migrated", version)
	}
	run(t, dsn, "CREATE TABLE survivor (id int PRIMARY KEY); INSERT INTO survivor VALUES (1)")

	// Kill takes the postmaster's children with it: each backend sits in a process
	// group of its own, and one left running would keep the restart from starting.
	children := descendants(pg.proc.cmd.Process.Pid)
	if len(children) == 0 {
		t.Fatal("postmaster has no children to check")
	}
	pg.Kill()
	for _, pid := range children {
		if alive(pid) {
			t.Fatalf("postgres process %d outlived Kill", pid)
		}
	}
	if err := ping(ctx, dsn); err == nil {
		t.Fatal("killed server still answers")
	}
	began := time.Now()
	pg.Start()
	t.Logf("started after kill (crash recovery) in %v", time.Since(began).Round(time.Millisecond))
	var id int
	query(t, dsn, "SELECT id FROM survivor", &id)
	run(t, dsn, "INSERT INTO survivor VALUES (2)")

	pg.Stop()
	// A server whose port was taken says so, rather than answering for another.
	hold := listen(t, pg.port)
	if err := pg.start(); !errors.Is(err, errPortInUse) {
		t.Fatalf("start on a taken port: %v, want errPortInUse", err)
	}
	_ = hold.Close()
	began = time.Now()
	pg.Start()
	t.Logf("started after stop in %v", time.Since(began).Round(time.Millisecond))
	var rows int
	query(t, dsn, "SELECT count(*) FROM survivor", &rows)
	if rows != 2 {
		t.Fatalf("%d rows after restart, want 2", rows)
	}
}

// A restart loses every key: nothing is persisted.
func TestRedisRestart(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	srv := Redis(t)
	opts, err := redis.ParseURL(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(opts)
	t.Cleanup(func() { _ = rdb.Close() })
	if err := rdb.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}

	srv.Stop()
	if c, err := net.Dial("tcp", opts.Addr); err == nil {
		_ = c.Close()
		t.Fatal("stopped server still answers")
	}
	hold := listen(t, srv.port)
	if err := srv.start(); !errors.Is(err, errPortInUse) {
		t.Fatalf("start on a taken port: %v, want errPortInUse", err)
	}
	_ = hold.Close()
	began := time.Now()
	srv.Start()
	t.Logf("redis started after stop in %v", time.Since(began).Round(time.Millisecond))
	if err := rdb.Get(ctx, "k").Err(); !errors.Is(err, redis.Nil) {
		t.Fatalf("get k after restart: %v, want redis.Nil", err)
	}

	if err := rdb.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	srv.Kill()
	srv.Start()
	if err := rdb.Get(ctx, "k").Err(); !errors.Is(err, redis.Nil) {
		t.Fatalf("get k after kill and start: %v, want redis.Nil", err)
	}
}

func listen(t *testing.T, port int) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		t.Fatalf("hold port %d: %v", port, err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	return ln
}

func show(t *testing.T, dsn, name string) string {
	t.Helper()
	var v string
	query(t, dsn, "SHOW "+name, &v)
	return v
}

// query runs sql on a connection of its own (a restart breaks pooled ones) and scans
// its one row into dst.
func query(t *testing.T, dsn, sql string, dst ...any) {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if err := conn.QueryRow(t.Context(), sql).Scan(dst...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

func run(t *testing.T, dsn, sql string) {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(t.Context(), sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

func ping(ctx context.Context, dsn string) error {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	return conn.Close(ctx)
}
