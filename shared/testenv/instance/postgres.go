package instance

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/8949market/market/migrations"
	"github.com/8949market/market/shared/postgres"
)

// PG is a private PostgreSQL server: superuser "postgres", trust authentication, on
// 127.0.0.1 only. Its methods report failures to the test that started it, so call them
// from that test's goroutine.
type PG struct {
	t    testing.TB
	bin  string              // the directory of initdb and postgres
	cred *syscall.Credential // whom the server runs as; nil: as the test
	dir  string              // holds the data directory, the socket and the log
	data string
	port int
	args []string // -c settings
	proc *process // nil while stopped
}

// PostgresOption configures Postgres.
type PostgresOption func(*pgOptions)

type pgOptions struct {
	maxConnections int
	settings       [][2]string
}

// MaxConnections sets max_connections (default 300: three times the shared server's,
// enough for tests that open many pools at once).
func MaxConnections(n int) PostgresOption {
	return func(o *pgOptions) { o.maxConnections = n }
}

// Setting sets any other server parameter, as postgres -c name=value would.
func Setting(name, value string) PostgresOption {
	return func(o *pgOptions) { o.settings = append(o.settings, [2]string{name, value}) }
}

// Postgres creates a fresh cluster (initdb), starts it on a free loopback port and waits
// until it accepts connections. When the test ends the server is stopped (fast shutdown,
// killed if it does not stop) and its directory removed.
//
// PostgreSQL refuses to run as root, so when the test runs as root (as in CI) the server
// runs as the postgres OS user, which the postgresql package creates.
func Postgres(t testing.TB, opts ...PostgresOption) *PG {
	t.Helper()
	o := pgOptions{maxConnections: 300}
	for _, opt := range opts {
		opt(&o)
	}
	bin, err := pgBinDir()
	if err != nil {
		t.Fatalf("instance: %v", err)
	}
	cred, err := pgCredential()
	if err != nil {
		t.Fatalf("instance: %v", err)
	}
	began := time.Now()
	p := &PG{t: t, bin: bin, cred: cred}
	t.Cleanup(func() {
		p.Stop()
		if err := os.RemoveAll(p.dir); err != nil {
			t.Logf("instance: remove %s: %v", p.dir, err)
		}
	})
	if err := p.initdb(); err != nil {
		t.Fatalf("instance: %v", err)
	}
	initialised := time.Since(began)
	p.args = []string{
		"-c", "listen_addresses=127.0.0.1",
		"-c", "unix_socket_directories=" + p.dir,
		// Durability against power loss is not under test; against a killed server it
		// still holds, because the kernel keeps the writes.
		"-c", "fsync=off",
		"-c", "max_connections=" + strconv.Itoa(o.maxConnections),
	}
	for _, s := range o.settings {
		p.args = append(p.args, "-c", s[0]+"="+s[1])
	}
	if err := onFreePort(func(port int) error { p.port = port; return p.start() }); err != nil {
		t.Fatalf("instance: %v", err)
	}
	t.Logf("instance: postgres on 127.0.0.1:%d ready in %v (initdb %v)", p.port,
		time.Since(began).Round(time.Millisecond), initialised.Round(time.Millisecond))
	return p
}

// URL returns a DSN for database db on this server.
func (p *PG) URL(db string) string {
	u := url.URL{
		Scheme:   "postgres",
		User:     url.User("postgres"),
		Host:     "127.0.0.1:" + strconv.Itoa(p.port),
		Path:     "/" + db,
		RawQuery: "sslmode=disable",
	}
	return u.String()
}

// Migrated creates database db, applies the project's migrations to it and returns its
// URL. It reports to t, so a subtest may call it on its parent's server.
func (p *PG) Migrated(t testing.TB, db string) string {
	t.Helper()
	ctx := t.Context()
	conn, err := pgx.Connect(ctx, p.URL("postgres"))
	if err != nil {
		t.Fatalf("instance: %v", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{db}.Sanitize()); err != nil {
		t.Fatalf("instance: create database %s: %v", db, err)
	}
	dsn := p.URL(db)
	pool, err := postgres.Connect(ctx, dsn, 2)
	if err != nil {
		t.Fatalf("instance: %v", err)
	}
	defer pool.Close()
	if _, err := migrations.Up(ctx, pool); err != nil {
		t.Fatalf("instance: %s: %v", db, err)
	}
	return dsn
}

// Stop shuts the server down gracefully (fast shutdown: sessions are ended, a checkpoint
// written) and keeps its data for Start. Stopping a stopped server does nothing.
func (p *PG) Stop() {
	if p.proc == nil {
		return
	}
	p.proc.stop(syscall.SIGINT)
	p.proc = nil
}

// Kill kills the server and all its processes at once (SIGKILL), as a crash would: the
// next Start runs crash recovery. Killing a stopped server does nothing.
func (p *PG) Kill() {
	if p.proc == nil {
		return
	}
	p.proc.kill()
	p.proc = nil
}

// Start starts the stopped or killed server again on the same port and data directory,
// and waits until it accepts connections.
func (p *PG) Start() {
	p.t.Helper()
	if p.proc != nil {
		p.t.Fatalf("instance: postgres on port %d is already running", p.port)
	}
	if err := p.start(); err != nil {
		p.t.Fatalf("instance: %v", err)
	}
}

// initdb creates the server's directory and runs initdb in it.
func (p *PG) initdb() error {
	dir, err := os.MkdirTemp("", "market-pg-")
	if err != nil {
		return fmt.Errorf("create postgres directory: %w", err)
	}
	p.dir, p.data = dir, filepath.Join(dir, "data")
	// The server writes its socket here, and initdb insists on a private data directory.
	if err := os.Chmod(dir, 0o755); err != nil {
		return fmt.Errorf("create postgres directory: %w", err)
	}
	if err := os.Mkdir(p.data, 0o700); err != nil {
		return fmt.Errorf("create postgres directory: %w", err)
	}
	if p.cred != nil {
		for _, d := range []string{dir, p.data} {
			if err := os.Chown(d, int(p.cred.Uid), int(p.cred.Gid)); err != nil {
				return fmt.Errorf("give %s to the postgres user: %w", d, err)
			}
		}
	}
	cmd := p.command("initdb", "-D", p.data, "-U", "postgres", "--auth=trust",
		"--no-locale", "--encoding=UTF8", "--no-sync")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("initdb %s: %w\n%s", p.data, err, tail(string(out)))
	}
	return nil
}

func (p *PG) start() error {
	args := append([]string{"-D", p.data, "-p", strconv.Itoa(p.port)}, p.args...)
	cmd := p.command("postgres", args...)
	// On the test binary's death, an immediate shutdown: the postmaster takes its
	// backends down with it.
	cmd.SysProcAttr = procAttr(p.cred, syscall.SIGQUIT)
	proc, err := launch(cmd, filepath.Join(p.dir, "postgres.log"))
	if err != nil {
		return err
	}
	if err := proc.waitReady(p.t.Context(), p.ready); err != nil {
		return fmt.Errorf("postgres on port %d: %w", p.port, err)
	}
	p.proc = proc
	return nil
}

// ready reports whether this server accepts connections. It asks for the data directory
// because a server that lost the race for its port (see freePort) may hear another
// server answer there until it exits.
func (p *PG) ready(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	conn, err := pgconn.Connect(ctx, p.URL("postgres"))
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	res := conn.ExecParams(ctx, "SHOW data_directory", nil, nil, nil, nil).Read()
	if res.Err != nil {
		return res.Err
	}
	if len(res.Rows) != 1 || string(res.Rows[0][0]) != p.data {
		return fmt.Errorf("port %d answered by another server", p.port)
	}
	return nil
}

// command runs one of PostgreSQL's binaries as the server's user, from its directory
// (which that user can read, unlike perhaps the test's working directory).
func (p *PG) command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(filepath.Join(p.bin, name), args...)
	cmd.Dir = p.dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: p.cred}
	return cmd
}

// pgBinDir finds initdb and postgres: where pg_config says, else in the newest
// /usr/lib/postgresql/<version>/bin (Debian's layout, where pg_config may belong to the
// client library alone).
var pgBinDir = sync.OnceValues(func() (string, error) {
	var dirs []string
	if out, err := exec.Command("pg_config", "--bindir").Output(); err == nil {
		dirs = append(dirs, strings.TrimSpace(string(out)))
	}
	versions, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	slices.SortFunc(versions, func(a, b string) int { return pgVersion(b) - pgVersion(a) })
	dirs = append(dirs, versions...)
	for _, d := range dirs {
		if isFile(filepath.Join(d, "initdb")) && isFile(filepath.Join(d, "postgres")) {
			return d, nil
		}
	}
	return "", errors.New("PostgreSQL server binaries (initdb, postgres) not found via pg_config --bindir or in /usr/lib/postgresql/*/bin: install the postgresql package (apt-get install postgresql)")
})

// pgVersion reads the major version from /usr/lib/postgresql/<version>/bin.
func pgVersion(bin string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(bin)))
	return v
}

func isFile(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.Mode().IsRegular()
}

// pgCredential returns whom PostgreSQL runs as: the postgres OS user when the test runs
// as root (initdb and postgres refuse root), else nil, the test's own user.
func pgCredential() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("running as root, which PostgreSQL refuses, and no postgres user to run it as (the postgresql package creates one): %w", err)
	}
	uid, err := strconv.ParseUint(u.Uid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("postgres user: uid %q: %w", u.Uid, err)
	}
	gid, err := strconv.ParseUint(u.Gid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("postgres user: gid %q: %w", u.Gid, err)
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}
