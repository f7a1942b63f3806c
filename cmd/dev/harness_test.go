package main

// The fault suite's kit: make dev's binary as its own process on a PostgreSQL and a Redis
// of the test's own (so killing and restarting things touches nothing shared), an HTTP
// client that reports transport errors instead of failing the test (requests die with
// the processes), and readers of what the database holds.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/postgres"
	"github.com/8949market/market/shared/registry"
	"github.com/8949market/market/shared/testenv"
	"github.com/8949market/market/shared/testenv/instance"
)

var (
	buildOnce sync.Once
	binDir    string
	buildErr  error
)

// binaries builds make dev's command and the standalone broker once per test run.
func binaries(t *testing.T) (dev, kfake string) {
	t.Helper()
	buildOnce.Do(func() {
		binDir, buildErr = os.MkdirTemp("", "market-faults-")
		if buildErr != nil {
			return
		}
		_, file, _, _ := runtime.Caller(0)
		root := filepath.Join(filepath.Dir(file), "..", "..")
		cmd := exec.Command("go", "build", "-o", binDir+"/", "./cmd/dev", "./cmd/kfake")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %w\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return filepath.Join(binDir, "dev"), filepath.Join(binDir, "kfake")
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		_ = os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// proc is a process the suite starts, kills and restarts.
type proc struct {
	t    *testing.T
	name string
	bin  string
	args []string
	env  []string
	dir  string
	cmd  *exec.Cmd
	log  *os.File
	done chan struct{}
}

func newProc(t *testing.T, name, bin string, args, env []string) *proc {
	p := &proc{t: t, name: name, bin: bin, args: args, env: env, dir: t.TempDir()}
	t.Cleanup(func() {
		p.signal(syscall.SIGKILL)
		if t.Failed() {
			if b, err := os.ReadFile(filepath.Join(p.dir, "log")); err == nil {
				t.Logf("%s log (last 4 KiB):\n%s", p.name, tail(b, 4096))
			}
		}
	})
	return p
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

// start runs the process (again) in its directory, appending to its log.
func (p *proc) start() {
	p.t.Helper()
	log, err := os.OpenFile(filepath.Join(p.dir, "log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		p.t.Fatal(err)
	}
	cmd := exec.Command(p.bin, p.args...)
	cmd.Dir, cmd.Env, cmd.Stdout, cmd.Stderr = p.dir, p.env, log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		p.t.Fatalf("start %s: %v", p.name, err)
	}
	p.cmd, p.log, p.done = cmd, log, make(chan struct{})
	go func(cmd *exec.Cmd, log *os.File, done chan struct{}) {
		_ = cmd.Wait()
		_ = log.Close()
		close(done)
	}(cmd, log, p.done)
}

// signal sends sig to the process's group and waits for it to exit.
func (p *proc) signal(sig syscall.Signal) {
	if p.cmd == nil {
		return
	}
	_ = syscall.Kill(-p.cmd.Process.Pid, sig)
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
	}
	p.cmd = nil
}

// kill is kill -9: nothing runs after it.
func (p *proc) kill() { p.signal(syscall.SIGKILL) }

// freeze stops the process without ending it (SIGSTOP): its connections stay open and
// nothing answers on them, as with a hung or partitioned server; thaw resumes it.
func (p *proc) freeze() { _ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGSTOP) }
func (p *proc) thaw()   { _ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGCONT) }

// freePort returns a loopback port nobody listens on now.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// stack is make dev on its own PostgreSQL and Redis.
type stack struct {
	*proc
	URL    string
	PG     *instance.PG
	Redis  *instance.RedisServer
	DB     *pgxpool.Pool
	Signer *auth.Signer
	client *http.Client
}

// startStack starts make dev's binary on a fresh PostgreSQL and Redis; extra is added to
// its environment.
func startStack(t *testing.T, extra ...string) *stack {
	t.Helper()
	dev, _ := binaries(t)
	pg := instance.Postgres(t)
	rdb := instance.Redis(t)
	dsn := pg.Migrated(t, "market")
	key, err := auth.GenerateSigningKey("faults-" + uuid.NewString()[:8])
	if err != nil {
		t.Fatal(err)
	}
	priv, _ := json.Marshal(key.Private())
	pub, _ := json.Marshal(auth.JWKS{Keys: []auth.JWK{key.Public()}})
	port := freePort(t)
	env := append(os.Environ(),
		"DATABASE_URL="+dsn, "REDIS_URL="+rdb.URL(), "DATABASE_MAX_CONNS=40",
		"PORT="+strconv.Itoa(port), "CHAT_PORT="+strconv.Itoa(freePort(t)),
		"JWT_SIGNING_KEY="+string(priv), "JWT_PUBLIC_KEYS="+string(pub),
		"BOOTSTRAP_ADMIN_USERNAME=faultsadmin", "BOOTSTRAP_ADMIN_PASSWORD=Faults!admin-123",
		"BCRYPT_COST=10", "LOGIN_MAX_PER_CLIENT=1000000", "LOG_FORMAT=json", "LOG_LEVEL=warn",
		"KAFKA_BROKERS=", "BACKBONE=kafka", "PUBSUB_EMULATOR_HOST=",
	)
	env = append(env, extra...)
	s := &stack{
		proc: newProc(t, "dev", dev, nil, env), URL: "http://127.0.0.1:" + strconv.Itoa(port),
		PG: pg, Redis: rdb, Signer: auth.NewSigner(key),
		client: &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 256}},
	}
	pool, err := postgres.Connect(context.Background(), dsn, 8)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	s.DB = pool
	s.up()
	return s
}

// up starts the stack and waits until it is healthy.
func (s *stack) up() {
	s.t.Helper()
	s.start()
	began := time.Now()
	done := s.done
	testenv.Eventually(s.t, 90*time.Second, "the dev stack healthy", func() bool {
		select {
		case <-done:
			s.t.Fatalf("the dev stack exited while starting")
		default:
		}
		status, _, err := s.call("GET", "/healthz", nil, "")
		return err == nil && status == http.StatusOK
	})
	s.t.Logf("dev stack up in %v", time.Since(began).Round(time.Millisecond))
}

// call sends a request; a transport error is returned, not fatal (the stack may be dying).
func (s *stack) call(method, path string, body any, token string) (int, []byte, error) {
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, nil, err
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, s.URL+path, r)
	if err != nil {
		return 0, nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := s.client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return res.StatusCode, b, err
}

// user is a caller whose account lives only in its token (the deal functions need no more).
type user struct {
	ID    uuid.UUID
	Token string
}

func (s *stack) user(t *testing.T) user {
	t.Helper()
	id := uuid.New()
	token, _, err := s.Signer.Access(auth.Identity{
		UserID: id, Username: "u" + id.String()[:8], Nickname: "n" + id.String()[:8], Role: auth.RoleUser,
	}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return user{ID: id, Token: token}
}

// errorCode is the code of an error body, or "".
func errorCode(body []byte) string {
	var e struct {
		Code string `json:"code"`
	}
	_ = json.Unmarshal(body, &e)
	return e.Code
}

// data decodes a success envelope's data.
func data(body []byte, v any) error {
	var env struct {
		Data json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		return err
	}
	return json.Unmarshal(env.Data, v)
}

// createProduct lists a deal opening at start; it answers the product id when the API
// said 201.
func (s *stack) createProduct(seller user, start time.Time) (uuid.UUID, int, []byte, error) {
	status, body, err := s.call("POST", "/api/v1/products", map[string]any{
		"name": "Camera " + uuid.NewString()[:6], "description": "fault suite", "price": 1000,
		"startTime": start.UTC().Format(time.RFC3339Nano), "endTime": start.Add(time.Hour).UTC().Format(time.RFC3339Nano),
	}, seller.Token)
	if err != nil || status != http.StatusCreated {
		return uuid.Nil, status, body, err
	}
	var p struct {
		ID uuid.UUID `json:"productId"`
	}
	if err := data(body, &p); err != nil || p.ID == uuid.Nil {
		return uuid.Nil, status, body, fmt.Errorf("201 without a product id: %s", body)
	}
	return p.ID, status, body, nil
}

// reservationOf waits for the reservation product-created opens for product.
func (s *stack) reservationOf(t *testing.T, product uuid.UUID) uuid.UUID {
	t.Helper()
	var id uuid.UUID
	testenv.Eventually(t, 60*time.Second, "the reservation of "+product.String(), func() bool {
		err := s.DB.QueryRow(context.Background(), `SELECT id FROM reservations.reservations WHERE product_id = $1`, product).Scan(&id)
		return err == nil
	})
	return id
}

// openDeals lists n deals that open in a few seconds and waits until they are open.
func (s *stack) openDeals(t *testing.T, n int) []uuid.UUID {
	t.Helper()
	seller := s.user(t)
	start := time.Now().Add(4 * time.Second)
	var ids []uuid.UUID
	for range n {
		p, status, body, err := s.createProduct(seller, start)
		if err != nil || status != http.StatusCreated {
			t.Fatalf("create a deal: %d %s %v", status, body, err)
		}
		ids = append(ids, s.reservationOf(t, p))
	}
	testenv.Eventually(t, 30*time.Second, "the deals open", func() bool { return time.Now().After(start.Add(100 * time.Millisecond)) })
	return ids
}

// apply applies u to reservation id: the HTTP status, the error code and the place.
func (s *stack) apply(id uuid.UUID, u user) (int, string, int64, error) {
	status, body, err := s.call("PATCH", "/api/v1/reservations/"+id.String(), nil, u.Token)
	if err != nil {
		return 0, "", 0, err
	}
	if status != http.StatusOK {
		if code := errorCode(body); code != "" {
			return status, code, 0, nil
		}
		return status, string(body), 0, nil
	}
	var app struct {
		Status   string `json:"status"`
		Position int64  `json:"position"`
	}
	if err := data(body, &app); err != nil {
		return status, "", 0, err
	}
	return status, "", app.Position, nil
}

// readPlace is the caller's place as a read of the reservation shows it (0: buyer or none).
func (s *stack) readPlace(id uuid.UUID, u user) (int64, error) {
	status, body, err := s.call("GET", "/api/v1/reservations/"+id.String(), nil, u.Token)
	if err != nil {
		return 0, err
	}
	if status != http.StatusOK {
		return 0, fmt.Errorf("read %s: %d %s", id, status, body)
	}
	var d struct {
		Mine *struct {
			Status string `json:"status"`
			Place  int64  `json:"place"`
		} `json:"myApplication"`
	}
	if err := data(body, &d); err != nil {
		return 0, err
	}
	if d.Mine == nil {
		return 0, errors.New("no application of mine in the read")
	}
	return d.Mine.Place, nil
}

// delivered checks that every event committed was published and that every consumer of
// its topic recorded it exactly once (the inbox's primary key makes more than once
// impossible; fewer is what is checked). It answers a description of what is missing.
func (s *stack) undelivered(ctx context.Context) (string, error) {
	consumers := map[string]int{}
	for _, f := range registry.All() {
		if f.Kind == registry.KindEvent {
			consumers[f.Topic]++
		}
	}
	var unsent int
	if err := s.DB.QueryRow(ctx, `SELECT count(*) FROM messaging.outbox WHERE status <> 'SENT'`).Scan(&unsent); err != nil {
		return "", err
	}
	if unsent > 0 {
		return fmt.Sprintf("%d outbox rows not sent", unsent), nil
	}
	rows, err := s.DB.Query(ctx, `
		SELECT o.topic, count(*) FILTER (WHERE i.event_id IS NOT NULL), count(DISTINCT o.id)
		  FROM messaging.outbox o LEFT JOIN messaging.inbox i ON i.event_id = o.id
		 GROUP BY o.topic`)
	if err != nil {
		return "", err
	}
	defer rows.Close()
	for rows.Next() {
		var topic string
		var recorded, events int
		if err := rows.Scan(&topic, &recorded, &events); err != nil {
			return "", err
		}
		if want := events * consumers[topic]; recorded < want {
			return fmt.Sprintf("%s: %d of %d consumer records", topic, recorded, want), nil
		}
	}
	return "", rows.Err()
}

// allDelivered waits until nothing is undelivered.
func (s *stack) allDelivered(t *testing.T, within time.Duration) {
	t.Helper()
	var last string
	deadline := time.Now().Add(within)
	for {
		missing, err := s.undelivered(context.Background())
		if err == nil && missing == "" {
			return
		}
		if err != nil {
			missing = err.Error()
		}
		last = missing
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s", within, last)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// oneReservationPerProduct checks product-created's effect happened exactly once for
// every product stored.
func (s *stack) oneReservationPerProduct(t *testing.T) (products int) {
	t.Helper()
	var missing, doubled int
	err := s.DB.QueryRow(context.Background(), `
		SELECT count(*), count(*) FILTER (WHERE n = 0), count(*) FILTER (WHERE n > 1)
		  FROM (SELECT p.id, (SELECT count(*) FROM reservations.reservations r WHERE r.product_id = p.id) AS n
		          FROM products.products p) x`).Scan(&products, &missing, &doubled)
	if err != nil {
		t.Fatal(err)
	}
	if missing > 0 || doubled > 0 {
		t.Fatalf("of %d products, %d have no reservation and %d more than one", products, missing, doubled)
	}
	return products
}
