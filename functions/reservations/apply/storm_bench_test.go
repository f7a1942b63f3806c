package apply_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"

	"github.com/8949market/market/shared/api"
	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/devstack/stacktest"
	"github.com/8949market/market/shared/fault"
	"github.com/8949market/market/shared/platform"
	"github.com/8949market/market/shared/reservations"
	"github.com/8949market/market/shared/testenv"
)

// The storm's shape: every applicant of one deal arrives at its opening, through as many
// connections as the load balancer would hold open.
const (
	stormDBConns  = 64 // the stack's pool: enough for C=64 in flight without queueing on it
	lockWait      = 1500 * time.Millisecond
	lockRetry     = 3 * time.Millisecond
	lockLease     = 30 * time.Second // Redisson's watchdog lease
	insertWorkers = 64
	insertFor     = 3 * time.Second
)

// The storm's size, which the environment may change for a shorter run:
// STORM_APPLICANTS (5000), STORM_CONCURRENCY (a comma list, "64,256") and
// STORM_BASELINES=0 to leave out both baselines (the locked path and the raw inserts).
var (
	stormApplicants  = envInt("STORM_APPLICANTS", 5000)
	stormConcurrency = envInts("STORM_CONCURRENCY", []int{64, 256})
	stormBaselines   = os.Getenv("STORM_BASELINES") != "0"
)

func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

func envInts(name string, def []int) []int {
	var out []int
	for f := range strings.SplitSeq(os.Getenv(name), ",") {
		if n, err := strconv.Atoi(strings.TrimSpace(f)); err == nil && n > 0 {
			out = append(out, n)
		}
	}
	if len(out) == 0 {
		return def
	}
	return out
}

// BenchmarkStorm fires 5,000 distinct applicants at one open time deal over HTTP (JWT
// verification included) with C concurrent connections, checks the queue's invariants and
// reports throughput and latency, next to two baselines measured in the same run: the
// original's lock-per-reservation algorithm behind the same middleware, and the raw
// single-row INSERT rate of this database. Speed is reported, never asserted; only a
// broken invariant fails the benchmark.
//
// Our path runs twice per round, with telemetry off (the default: spans get ids, nothing
// is sampled or recorded, no metrics) and on as deployed (one trace in ten sampled, spans
// batched to an exporter that discards them, every metric recorded by the SDK), in
// alternating order so that a drift of the machine does not favour either; the table
// gives the throughput ratio on/off (target >= 0.9) and both p99s. otelkit.Deployed
// switches between the two.
func BenchmarkStorm(b *testing.B) {
	stacktest.Quiet(b)
	otelkit.Deployed(false)
	b.Cleanup(otelkit.RecordAll) // the tests' telemetry again
	cfg, signer := testenv.Config(b)
	cfg.DatabaseMaxConns = stormDBConns
	st := stacktest.StartWith(b, cfg, signer)
	locked := httptest.NewServer(lockedHandler(st.Kit))
	b.Cleanup(locked.Close)

	var inserts insertRun
	if stormBaselines {
		b.Run("db-inserts", func(b *testing.B) {
			for range b.N {
				inserts.add(insertFlood(b, st.Kit.DB))
			}
			b.ReportMetric(inserts.rate(), "inserts/s")
			b.ReportMetric(0, "ns/op")
		})
	}
	// storm runs our path once, with telemetry on or off, on a fresh deal and fresh users,
	// so each request pays for a full signature check (the verifier caches verified
	// tokens).
	storm := func(b *testing.B, c int, on bool) stormRun {
		id := stormDeal(b, st)
		users, tokens := mintTokens(b, st)
		warmPools(b, st.Kit)
		otelkit.Deployed(on)
		run := fire(st.URL+"/api/v1/reservations/"+id.String(), tokens, c)
		otelkit.Deployed(false)
		checkQueue(b, st, id, users, run, true)
		return run
	}
	var rows []stormRow
	for _, c := range stormConcurrency {
		b.Run(fmt.Sprintf("C=%d", c), func(b *testing.B) {
			var ours, traced, base stormRun
			var ratios []float64
			for i := range b.N {
				var off, on stormRun
				if i%2 == 0 {
					off = storm(b, c, false)
					on = storm(b, c, true)
				} else {
					on = storm(b, c, true)
					off = storm(b, c, false)
				}
				ours.add(off)
				traced.add(on)
				ratios = append(ratios, on.rate()/off.rate())
				if !stormBaselines {
					continue
				}
				id := stormDeal(b, st)
				users, tokens := mintTokens(b, st)
				warmPools(b, st.Kit)
				run := fire(locked.URL+"/api/v1/reservations/"+id.String(), tokens, c)
				checkQueue(b, st, id, users, run, false)
				base.add(run)
			}
			ours.report(b, "")
			traced.report(b, "otel-")
			b.ReportMetric(traced.rate()/ours.rate(), "x-otel")
			if stormBaselines {
				base.report(b, "locked-")
				b.ReportMetric(ours.rate()/base.rate(), "x-locked")
			}
			if inserts.n > 0 {
				b.ReportMetric(ours.rate()/inserts.rate(), "x-inserts")
			}
			b.ReportMetric(0, "ns/op")
			// The last call at each C is the measurement (the first calls size b.N).
			rows = slices.DeleteFunc(rows, func(r stormRow) bool { return r.c == c })
			rows = append(rows, stormRow{c: c, ours: ours, traced: traced, locked: base, ratios: ratios})
		})
	}
	printStormTable(rows, inserts)
}

// stormDeal inserts a listed product and its reservation, whose window opened a second
// ago, sold by a user who does not apply. The product is there so the buyer's
// reservation-applied event does its real work during the storm.
func stormDeal(b *testing.B, st *stacktest.Stack) uuid.UUID {
	b.Helper()
	id, product, seller := uuid.New(), uuid.New(), uuid.New()
	_, err := st.Kit.DB.Exec(context.Background(), `
		WITH p AS (
		  INSERT INTO products.products
		    (id, seller_id, seller_nickname, name, description, price, status, start_time, end_time,
		     created_at, created_by, modified_at, modified_by)
		  VALUES ($2, $3, 'seller', 'Camera', 'a storm', 1000, 'PENDING_RESERVATION', now() - interval '1 second',
		          now() + interval '1 hour', now(), $3, now(), $3)
		  RETURNING start_time, end_time
		)
		INSERT INTO reservations.reservations
		  (id, product_id, seller_id, seller_nickname, product_name, product_price, start_time, end_time, status)
		SELECT $1, $2, $3, 'seller', 'Camera', 1000, start_time, end_time, 'AVAILABLE' FROM p`, id, product, seller)
	if err != nil {
		b.Fatal(err)
	}
	return id
}

func mintTokens(b *testing.B, st *stacktest.Stack) ([]uuid.UUID, []string) {
	b.Helper()
	users := make([]uuid.UUID, stormApplicants)
	tokens := make([]string, stormApplicants)
	for i := range tokens {
		var who auth.Identity
		tokens[i], who = st.Token(b, auth.RoleUser)
		users[i] = who.UserID
	}
	return users, tokens
}

// warmPools opens the database and Redis connections before timing, as a deployed
// instance has them open when a deal opens; it also settles the heap left by minting.
func warmPools(b *testing.B, kit *platform.Kit) {
	b.Helper()
	ctx := context.Background()
	conns := make([]*pgxpool.Conn, kit.DB.Config().MaxConns)
	errs := make([]error, len(conns))
	var wg sync.WaitGroup
	for i := range conns {
		wg.Go(func() { conns[i], errs[i] = kit.DB.Acquire(ctx) })
	}
	wg.Wait()
	for i, c := range conns {
		if errs[i] != nil {
			b.Fatal(errs[i])
		}
		c.Release()
	}
	pings := make([]error, kit.Redis.Options().PoolSize)
	for i := range pings {
		wg.Go(func() { pings[i] = kit.Redis.Ping(ctx).Err() })
	}
	wg.Wait()
	if err := errors.Join(pings...); err != nil {
		b.Fatal(err)
	}
	runtime.GC()
}

// outcome is one applicant's answer as the client saw it.
type outcome struct {
	status int
	body   []byte
	lat    time.Duration
}

// stormRun is one or more storms of one path at one concurrency.
type stormRun struct {
	out  []outcome
	wall time.Duration
	cpu  cpuUse
}

func (r *stormRun) add(o stormRun) {
	r.out = append(r.out, o.out...)
	r.wall += o.wall
	r.cpu = r.cpu.plus(o.cpu)
}

func (r *stormRun) rate() float64 { return float64(len(r.out)) / r.wall.Seconds() }

func (r *stormRun) failures() int {
	n := 0
	for _, o := range r.out {
		if o.status != http.StatusOK {
			n++
		}
	}
	return n
}

// failureMix names the failed answers by status, e.g. "429×131".
func (r *stormRun) failureMix() string {
	n := map[int]int{}
	for _, o := range r.out {
		if o.status != http.StatusOK {
			n[o.status]++
		}
	}
	var parts []string
	for _, st := range slices.Sorted(maps.Keys(n)) {
		parts = append(parts, fmt.Sprintf("%d×%d", st, n[st]))
	}
	return strings.Join(parts, " ")
}

// pct is the q-quantile of the latencies in milliseconds.
func (r *stormRun) pct(q float64) float64 {
	lat := make([]time.Duration, len(r.out))
	for i, o := range r.out {
		lat[i] = o.lat
	}
	slices.Sort(lat)
	return float64(lat[int(q*float64(len(lat)-1))].Microseconds()) / 1000
}

func (r *stormRun) report(b *testing.B, prefix string) {
	b.ReportMetric(r.rate(), prefix+"applies/s")
	b.ReportMetric(r.pct(0.50), prefix+"p50-ms")
	b.ReportMetric(r.pct(0.95), prefix+"p95-ms")
	b.ReportMetric(r.pct(0.99), prefix+"p99-ms")
	b.ReportMetric(float64(r.failures()), prefix+"errors")
}

// fire sends one PATCH per token through c connections, all released at once: closed
// loop, so each latency is the applicant's own request, not time spent waiting for a
// free connection in this client.
func fire(url string, tokens []string, c int) stormRun {
	tr := &http.Transport{MaxIdleConns: c, MaxIdleConnsPerHost: c, MaxConnsPerHost: c, IdleConnTimeout: time.Minute}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	out := make([]outcome, len(tokens))
	var next atomic.Int64
	var wg sync.WaitGroup
	before := readCPU()
	start := time.Now()
	for range c {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(tokens) {
					return
				}
				out[i] = send(client, url, tokens[i])
			}
		})
	}
	wg.Wait()
	wall := time.Since(start)
	return stormRun{out: out, wall: wall, cpu: readCPU().minus(before)}
}

func send(client *http.Client, url, token string) outcome {
	start := time.Now()
	req, err := http.NewRequest(http.MethodPatch, url, nil)
	if err != nil {
		return outcome{body: []byte(err.Error()), lat: time.Since(start)}
	}
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := client.Do(req)
	if err != nil {
		return outcome{body: []byte(err.Error()), lat: time.Since(start)}
	}
	body, err := io.ReadAll(res.Body)
	_ = res.Body.Close()
	if err != nil {
		return outcome{body: []byte(err.Error()), lat: time.Since(start)}
	}
	return outcome{status: res.StatusCode, body: body, lat: time.Since(start)}
}

// checkQueue checks a storm's answers and rows: one SELECTED buyer holding position 1,
// the WAITING answers at places 1..k-1 with no gap or repeat, and k rows at positions
// 1..k with one SELECTED, the reservation's buyer; k is every applicant when all must
// succeed (ours), else those answered 200 (the locked baseline refuses with 429 R010 by
// design, and any other refusal is reported as an error).
func checkQueue(b *testing.B, st *stacktest.Stack, id uuid.UUID, users []uuid.UUID, run stormRun, all bool) {
	b.Helper()
	var bad []string
	var buyers []uuid.UUID
	places := map[int64][]uuid.UUID{}
	ok := 0
	for i, o := range run.out {
		if o.status != http.StatusOK {
			if all && len(bad) < 5 {
				bad = append(bad, fmt.Sprintf("applicant %d answered %d: %.200s", i, o.status, o.body))
			}
			continue
		}
		ok++
		var app reservations.Application
		stacktest.Response{Status: o.status, Body: o.body}.Data(b, &app)
		switch app.Status {
		case "SELECTED":
			buyers = append(buyers, users[i])
		case "WAITING":
			places[app.Position] = append(places[app.Position], users[i])
		default:
			bad = append(bad, fmt.Sprintf("applicant %d answered status %q", i, app.Status))
		}
	}
	if all && ok != len(run.out) {
		bad = append(bad, fmt.Sprintf("%d of %d applies failed", len(run.out)-ok, len(run.out)))
	}
	if ok > 0 && len(buyers) != 1 {
		bad = append(bad, fmt.Sprintf("%d SELECTED answers, want 1", len(buyers)))
	}

	// Each application's stored position, to show what a wrong place should have been.
	ctx := context.Background()
	stored := map[uuid.UUID]int64{}
	var selected []uuid.UUID
	var selectedPos []int64
	rows, err := st.Kit.DB.Query(ctx, `SELECT user_id, position, status FROM reservations.applications WHERE reservation_id = $1`, id)
	if err != nil {
		b.Fatal(err)
	}
	positions := map[int64]bool{}
	for rows.Next() {
		var u uuid.UUID
		var p int64
		var s string
		if err := rows.Scan(&u, &p, &s); err != nil {
			b.Fatal(err)
		}
		stored[u], positions[p] = p, true
		if s == "SELECTED" {
			selected, selectedPos = append(selected, u), append(selectedPos, p)
		}
	}
	if err := rows.Err(); err != nil {
		b.Fatal(err)
	}

	missing, repeated := 0, 0
	var examples []string
	for p := int64(1); p < int64(ok); p++ {
		switch holders := places[p]; {
		case len(holders) == 0:
			missing++
		case len(holders) > 1:
			repeated += len(holders) - 1
			if len(examples) < 3 {
				var s []string
				for _, u := range holders {
					s = append(s, fmt.Sprintf("%s (stored position %d)", u.String()[:8], stored[u]))
				}
				examples = append(examples, fmt.Sprintf("place %d answered to %s", p, strings.Join(s, ", ")))
			}
		}
	}
	outside := 0
	for p, holders := range places {
		if p < 1 || p >= int64(ok) {
			outside += len(holders)
		}
	}
	if missing+repeated+outside > 0 {
		bad = append(bad, fmt.Sprintf("WAITING places not 1..%d: %d missing, %d repeated, %d out of range; e.g. %s",
			ok-1, missing, repeated, outside, strings.Join(examples, "; ")))
	}

	if len(stored) != ok || len(positions) != ok {
		bad = append(bad, fmt.Sprintf("%d rows at %d distinct positions, want %d", len(stored), len(positions), ok))
	}
	for p := int64(1); p <= int64(ok); p++ {
		if !positions[p] {
			bad = append(bad, fmt.Sprintf("no row at position %d of 1..%d", p, ok))
			break
		}
	}
	if ok > 0 {
		var buyer *uuid.UUID
		var status string
		if err := st.Kit.DB.QueryRow(ctx, `SELECT buyer_id, status FROM reservations.reservations WHERE id = $1`, id).
			Scan(&buyer, &status); err != nil {
			b.Fatal(err)
		}
		switch {
		case len(selected) != 1:
			bad = append(bad, fmt.Sprintf("%d SELECTED rows, want 1", len(selected)))
		case selectedPos[0] != 1:
			bad = append(bad, fmt.Sprintf("the SELECTED row holds position %d, want 1", selectedPos[0]))
		case len(buyers) == 1 && selected[0] != buyers[0]:
			bad = append(bad, fmt.Sprintf("SELECTED row of %s, answered to %s", selected[0], buyers[0]))
		case buyer == nil || *buyer != selected[0] || status != "PENDING":
			bad = append(bad, fmt.Sprintf("reservation buyer %v status %s, want %s PENDING", buyer, status, selected[0]))
		}
	}
	if len(bad) > 0 {
		path := "apply path"
		if !all {
			path = "locked baseline (a bug in this benchmark, not in the apply path)"
		}
		b.Fatalf("%s: invariants broken in a storm of %d:\n  %s", path, len(run.out), strings.Join(bad, "\n  "))
	}
}

// errLockBusy is the original's answer when the reservation lock is not had in time.
var errLockBusy = fault.New(fault.TooMany, "R010", "too many applicants right now; try again")

// unlock releases the lock only if this request still holds it, as Redisson's unlock does.
var unlock = redis.NewScript(`if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`)

// lockedHandler is the original's apply, behind the same middleware as the real function
// (instrumentation, then the token check).
func lockedHandler(kit *platform.Kit) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("PATCH /api/v1/reservations/{reservationId}", func(w http.ResponseWriter, r *http.Request) {
		who, ok := auth.FromContext(r.Context())
		if !ok {
			api.Fail(w, r, fault.ErrUnauthenticated)
			return
		}
		id, err := uuid.Parse(r.PathValue("reservationId"))
		if err != nil {
			api.Fail(w, r, fault.ErrBadParameter.OnField("reservationId"))
			return
		}
		app, err := lockedApply(r.Context(), kit, id, who)
		if err != nil {
			api.Fail(w, r, err)
			return
		}
		api.OK(w, r, app)
	})
	return api.Instrument("reservations-apply-locked", kit.Verifier.Require(mux))
}

// lockedApply takes the reservation's Redis lock (tryLock(1.5 s) as spin-and-retry), then
// in one transaction locks the row, appends the application at max(position)+1 and, for
// the first applicant, makes it the buyer.
func lockedApply(ctx context.Context, kit *platform.Kit, id uuid.UUID, who auth.Identity) (reservations.Application, error) {
	key := "bench:lock:reservation:" + id.String()
	owner := uuid.NewString()
	deadline := time.Now().Add(lockWait)
	for {
		got, err := kit.Redis.SetNX(ctx, key, owner, lockLease).Result()
		if err != nil {
			return reservations.Application{}, fault.ErrUnavailable.Wrap(err)
		}
		if got {
			break
		}
		if time.Until(deadline) < lockRetry {
			return reservations.Application{}, errLockBusy
		}
		time.Sleep(lockRetry)
	}
	defer unlock.Run(context.WithoutCancel(ctx), kit.Redis, []string{key}, owner)

	app := reservations.Application{ReservationID: id, Status: "WAITING"}
	err := pgx.BeginFunc(ctx, kit.DB, func(tx pgx.Tx) error {
		var status string
		var buyer *uuid.UUID
		var seller uuid.UUID
		var started, ended bool
		err := tx.QueryRow(ctx, `
			SELECT status, buyer_id, seller_id, start_time <= clock_timestamp(), end_time <= clock_timestamp()
			  FROM reservations.reservations WHERE id = $1 FOR UPDATE`, id).Scan(&status, &buyer, &seller, &started, &ended)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			return reservations.ErrNotFound
		case err != nil:
			return err
		case status != "AVAILABLE" && status != "PENDING" && status != "PAID":
			return reservations.ErrClosed
		case !started:
			return reservations.ErrNotOpen
		case ended:
			return reservations.ErrEnded
		case seller == who.UserID:
			return reservations.ErrSellerApplies
		}
		var pos int64
		if err := tx.QueryRow(ctx, `SELECT coalesce(max(position), 0) + 1 FROM reservations.applications WHERE reservation_id = $1`, id).
			Scan(&pos); err != nil {
			return err
		}
		first := buyer == nil && status == "AVAILABLE"
		appStatus := "WAITING"
		if first {
			appStatus = "SELECTED"
		}
		if _, err := tx.Exec(ctx, `
			INSERT INTO reservations.applications (reservation_id, position, user_id, nickname, status)
			VALUES ($1, $2, $3, $4, $5)`, id, pos, who.UserID, who.Nickname, appStatus); err != nil {
			return err
		}
		if !first {
			app.Position = pos - 1 // the buyer holds position 1 and, in a storm, no one leaves
			return nil
		}
		var deadline time.Time
		if err := tx.QueryRow(ctx, `
			UPDATE reservations.reservations
			   SET status = 'PENDING', buyer_id = $2, buyer_nickname = $3, buyer_position = $4,
			       payment_deadline = clock_timestamp() + interval '60 minutes',
			       version = version + 1, modified_at = clock_timestamp()
			 WHERE id = $1
			RETURNING payment_deadline`, id, who.UserID, who.Nickname, pos).Scan(&deadline); err != nil {
			return err
		}
		app.Status, app.PaymentDeadline = "SELECTED", &deadline
		return nil
	})
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.ConstraintName == "applications_one_per_user" {
		return reservations.Application{}, reservations.ErrAlreadyApplied
	}
	if err != nil {
		return reservations.Application{}, fmt.Errorf("locked apply to %s: %w", id, err)
	}
	return app, nil
}

// insertRun is the database's raw single-row insert rate.
type insertRun struct {
	n    int64
	wall time.Duration
	cpu  cpuUse
}

func (r *insertRun) add(o insertRun) {
	r.n, r.wall, r.cpu = r.n+o.n, r.wall+o.wall, r.cpu.plus(o.cpu)
}

func (r *insertRun) rate() float64 { return float64(r.n) / r.wall.Seconds() }

// insertFlood inserts single rows, autocommit, from insertWorkers goroutines for
// insertFor: the ceiling of one-commit-per-applicant on this machine.
func insertFlood(b *testing.B, db *pgxpool.Pool) insertRun {
	b.Helper()
	ctx := context.Background()
	if _, err := db.Exec(ctx, `
		CREATE TABLE IF NOT EXISTS bench_inserts (
		  id bigserial PRIMARY KEY, reservation_id uuid NOT NULL, user_id uuid NOT NULL,
		  created_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		b.Fatal(err)
	}
	reservation := uuid.New()
	var n atomic.Int64
	var failed atomic.Pointer[error]
	var wg sync.WaitGroup
	before := readCPU()
	start := time.Now()
	stop := start.Add(insertFor)
	for range insertWorkers {
		wg.Go(func() {
			for time.Now().Before(stop) {
				if _, err := db.Exec(ctx, `INSERT INTO bench_inserts (reservation_id, user_id) VALUES ($1, $2)`,
					reservation, uuid.New()); err != nil {
					failed.CompareAndSwap(nil, &err)
					return
				}
				n.Add(1)
			}
		})
	}
	wg.Wait()
	wall := time.Since(start)
	if err := failed.Load(); err != nil {
		b.Fatalf("insert: %v", *err)
	}
	return insertRun{n: n.Load(), wall: wall, cpu: readCPU().minus(before)}
}

// cpuUse is CPU time (user + system) spent by this process (load generator, HTTP servers,
// token checks and handlers alike), by all postgres processes, by redis-server and by the
// whole machine (busy, of which interrupts, which carry loopback TCP and are also charged
// to whichever process they interrupted; and idle), read from /proc; zero where there is
// no /proc. It tells which of them a storm is bound by, and whether anything else ran.
type cpuUse struct{ self, postgres, redis, irq, busy, idle time.Duration }

func (c cpuUse) plus(o cpuUse) cpuUse {
	return cpuUse{c.self + o.self, c.postgres + o.postgres, c.redis + o.redis, c.irq + o.irq, c.busy + o.busy, c.idle + o.idle}
}

func (c cpuUse) minus(o cpuUse) cpuUse {
	return cpuUse{c.self - o.self, c.postgres - o.postgres, c.redis - o.redis, c.irq - o.irq, c.busy - o.busy, c.idle - o.idle}
}

func readCPU() cpuUse {
	var c cpuUse
	c.irq, c.busy, c.idle = machineCPU()
	c.self, _ = procCPU("/proc/self/stat")
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		t, comm := procCPU("/proc/" + e.Name() + "/stat")
		switch comm {
		case "postgres":
			c.postgres += t
		case "redis-server":
			c.redis += t
		}
	}
	return c
}

// machineCPU reads the interrupt (hard and soft), busy (interrupts included) and idle
// (iowait included) time of all cores from /proc/stat.
func machineCPU() (irq, busy, idle time.Duration) {
	raw, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0, 0
	}
	line, _, _ := strings.Cut(string(raw), "\n")
	f := strings.Fields(line) // cpu user nice system idle iowait irq softirq steal ...
	if len(f) < 9 || f[0] != "cpu" {
		return 0, 0, 0
	}
	for i, v := range f[1:9] {
		n, _ := strconv.ParseInt(v, 10, 64)
		d := time.Duration(n) * 10 * time.Millisecond
		switch i {
		case 3, 4:
			idle += d
		case 5, 6:
			irq += d
			busy += d
		default:
			busy += d
		}
	}
	return irq, busy, idle
}

// procCPU reads utime + stime (fields 14 and 15, in USER_HZ = 100 ticks a second on
// Linux) and the command name of one /proc/<pid>/stat.
func procCPU(path string) (time.Duration, string) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return 0, ""
	}
	s := string(raw)
	open, closing := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
	if open < 0 || closing < open {
		return 0, ""
	}
	f := strings.Fields(s[closing+1:]) // f[0] is field 3 (state)
	if len(f) < 13 {
		return 0, ""
	}
	user, _ := strconv.ParseInt(f[11], 10, 64)
	sys, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(user+sys) * 10 * time.Millisecond, s[open+1 : closing]
}

type stormRow struct {
	c                    int
	ours, traced, locked stormRun
	ratios               []float64 // telemetry on/off, per round
}

// cpuCols renders CPU use as percent of one core over the wall time: this process,
// postgres, redis, the rest (other processes, give or take the 10 ms ticks), idle, and
// the share of all of them spent in interrupts.
func cpuCols(c cpuUse, wall time.Duration) string {
	p := func(d time.Duration) float64 { return 100 * d.Seconds() / wall.Seconds() }
	rest := c.busy - c.self - c.postgres - c.redis
	return fmt.Sprintf("%6.0f %6.0f %6.0f %6.0f %6.0f %6.0f", p(c.self), p(c.postgres), p(c.redis), p(rest), p(c.idle), p(c.irq))
}

// printStormTable prints to stdout, so that `make bench` shows the table whatever -v says.
func printStormTable(rows []stormRow, ins insertRun) {
	if len(rows) == 0 && ins.n == 0 {
		return
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "\ntime-deal storm: %d distinct applicants at one open deal, over HTTP with JWT; %d cores\n", stormApplicants, runtime.NumCPU())
	fmt.Fprintf(&sb, "latency: client-side, request sent to answer read; cpu: %% of one core over the wall time\n")
	fmt.Fprintf(&sb, "%-26s %4s %8s %7s %7s %7s %6s %6s  %6s %6s %6s %6s %6s %6s\n", "path", "C", "rate/s", "p50 ms", "p95 ms", "p99 ms",
		"errors", "wall s", "go", "pg", "redis", "other", "idle", "(irq)")
	line := func(name string, c int, r stormRun) {
		l := fmt.Sprintf("%-26s %4d %8.0f %7.1f %7.1f %7.1f %6d %6.2f  %s  %s", name, c, r.rate(), r.pct(0.50), r.pct(0.95), r.pct(0.99),
			r.failures(), r.wall.Seconds(), cpuCols(r.cpu, r.wall), r.failureMix())
		sb.WriteString(strings.TrimRight(l, " ") + "\n")
	}
	for _, r := range rows {
		line("ours (Redis admission)", r.c, r.ours)
		line("ours, telemetry on", r.c, r.traced)
		if len(r.locked.out) > 0 {
			line("(a) lock per reservation", r.c, r.locked)
		}
	}
	if ins.n > 0 {
		fmt.Fprintf(&sb, "%-26s %4d %8.0f %7s %7s %7s %6s %6.2f  %s\n", "(b) single-row INSERT", insertWorkers, ins.rate(), "-", "-", "-", "-",
			ins.wall.Seconds(), cpuCols(ins.cpu, ins.wall))
	}
	for _, r := range rows {
		fmt.Fprintf(&sb, "C=%d: telemetry on/off = %.3f (target >= 0.9; median round %.3f, by round %s; this process's CPU per apply %.0f µs off, %.0f µs on)",
			r.c, r.traced.rate()/r.ours.rate(), median(r.ratios), roundRatios(r.ratios), cpuPerApply(r.ours), cpuPerApply(r.traced))
		if len(r.locked.out) > 0 {
			fmt.Fprintf(&sb, ", ours/(a) = %.1fx (target >= 5x)", r.ours.rate()/r.locked.rate())
		}
		if ins.n > 0 {
			fmt.Fprintf(&sb, ", ours/(b) = %.2fx (target >= 0.3x)", r.ours.rate()/ins.rate())
		}
		fmt.Fprintf(&sb, ", p99 %.1f ms off, %.1f ms on (target < 100 ms); invariants held\n", r.ours.pct(0.99), r.traced.pct(0.99))
	}
	fmt.Print(sb.String())
}

func roundRatios(ratios []float64) string {
	parts := make([]string, len(ratios))
	for i, r := range ratios {
		parts[i] = fmt.Sprintf("%.2f", r)
	}
	return strings.Join(parts, " ")
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Sorted(slices.Values(xs))
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// cpuPerApply is this process's CPU time (load generator included) per apply, in µs: what
// telemetry adds to it is less at the mercy of other processes than the throughput is.
func cpuPerApply(r stormRun) float64 {
	if len(r.out) == 0 {
		return 0
	}
	return float64(r.cpu.self.Microseconds()) / float64(len(r.out))
}
