package main

// The fault suite: make dev's binary on a PostgreSQL and a Redis of each test's own,
// broken on purpose while users create deals and apply. Each case prints its counts and
// asserts that nothing was lost, doubled or stuck: every committed event delivered and
// recorded by each of its consumers, every product with exactly one reservation, every
// applicant with a row or free to apply again, places answered equal to places read.

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/8949market/market/shared/reservations"
	"github.com/8949market/market/shared/testenv"
)

// burst is one wave of users creating deals and applying to open ones, cut short by an
// outside event (a kill, a restart).
type burst struct {
	creates, applies   int
	created            sync.Map // product id → true: answered 201
	applied            sync.Map // user id → answered status
	appliers           []user
	answered, failures atomic.Int64
	statuses           sync.Map     // "status code" → *atomic.Int64
	during             atomic.Int64 // answers 503 while something is down
}

func (b *burst) count(status int, code string) {
	if status == http.StatusServiceUnavailable {
		b.during.Add(1)
	}
	key := fmt.Sprintf("%d %s", status, code)
	n, _ := b.statuses.LoadOrStore(key, new(atomic.Int64))
	n.(*atomic.Int64).Add(1)
}

func (b *burst) summary() string {
	out := ""
	b.statuses.Range(func(k, v any) bool {
		out += fmt.Sprintf(" [%s]×%d", k, v.(*atomic.Int64).Load())
		return true
	})
	return out
}

// run fires the burst with c requests in flight and calls during once the first answers
// arrive; it returns when every request has been answered or has failed.
func (b *burst) run(t *testing.T, s *stack, deals []uuid.UUID, c int, during func()) {
	t.Helper()
	sellers := make([]user, 8)
	for i := range sellers {
		sellers[i] = s.user(t)
	}
	b.appliers = make([]user, b.applies)
	for i := range b.appliers {
		b.appliers[i] = s.user(t)
	}
	work := make(chan func(), b.creates+b.applies)
	start := time.Now().Add(10 * time.Minute)
	for i := 0; i < b.creates || i < b.applies; i++ {
		if i < b.creates {
			seller := sellers[i%len(sellers)]
			work <- func() {
				id, status, body, err := s.createProduct(seller, start)
				b.record(status, body, err)
				if err == nil && status == http.StatusCreated {
					b.created.Store(id, true)
				}
			}
		}
		if i < b.applies {
			u, deal := b.appliers[i], deals[i%len(deals)]
			work <- func() {
				status, code, _, err := s.apply(deal, u)
				b.record(status, []byte(`{"code":"`+code+`"}`), err)
				if err == nil {
					b.applied.Store(u.ID, status)
				}
			}
		}
	}
	close(work)
	var wg sync.WaitGroup
	for range c {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for f := range work {
				f()
			}
		}()
	}
	testenv.Eventually(t, 30*time.Second, "the first answers", func() bool { return b.answered.Load() >= 20 })
	during()
	wg.Wait()
}

func (b *burst) record(status int, body []byte, err error) {
	if err != nil {
		b.failures.Add(1)
		return
	}
	b.answered.Add(1)
	b.count(status, errorCode(body))
}

// applicantsWhole checks every applicant of the burst has a row or may apply again: those
// without a row apply until admitted (a dead admission is refused while its lease runs);
// then a newcomer to each deal is told the place a read shows.
func (s *stack) applicantsWhole(t *testing.T, b *burst, deals []uuid.UUID) (rows, reapplied, dead int) {
	t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(reservations.AdmissionLease + 30*time.Second)
	for i, u := range b.appliers {
		deal := deals[i%len(deals)]
		var has bool
		if err := s.DB.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM reservations.applications WHERE reservation_id = $1 AND user_id = $2)`,
			deal, u.ID).Scan(&has); err != nil {
			t.Fatal(err)
		}
		if has {
			rows++
			continue
		}
		for refused := false; ; {
			// Until the dead admissions are judged (the lease), a place answered may still
			// count them; the newcomers below check the repaired queue.
			status, code, _, err := s.apply(deal, u)
			if err == nil && status == http.StatusOK {
				reapplied++
				if refused {
					dead++
				}
				break
			}
			refused = refused || err == nil && status == http.StatusConflict
			if time.Now().After(deadline) {
				t.Fatalf("applicant %s without a row still cannot apply: %d %s %v", u.ID, status, code, err)
			}
			if err == nil && (status != http.StatusConflict || code != "R008") && status != http.StatusServiceUnavailable {
				t.Fatalf("applicant %s without a row: %d %s", u.ID, status, code)
			}
			time.Sleep(250 * time.Millisecond) // the lease is a span of time; nothing to poll for
		}
	}
	// A newcomer to each deal is told the place a read shows.
	for _, deal := range deals {
		u := s.user(t)
		status, code, place, err := s.apply(deal, u)
		if err != nil || status != http.StatusOK {
			t.Fatalf("newcomer: %d %s %v", status, code, err)
		}
		if read, err := s.readPlace(deal, u); err != nil || read != place {
			t.Fatalf("newcomer to %s: answered place %d, read %d (%v)", deal, place, read, err)
		}
	}
	return rows, reapplied, dead
}

// kill -9 of the whole stack in the middle of a burst of creates and applies, then a
// restart: what was committed is delivered and applied once, and applicants caught in
// the crash are whole.
func TestKillDuringBurst(t *testing.T) {
	t.Parallel()
	s := startStack(t)
	deals := s.openDeals(t, 2)
	b := &burst{creates: 200, applies: 300}
	b.run(t, s, deals, 48, func() {
		time.Sleep(150 * time.Millisecond) // let the burst get going; the kill is the point
		s.kill()
	})
	t.Logf("before the kill: %d answered%s, %d cut off", b.answered.Load(), b.summary(), b.failures.Load())
	s.up()
	s.allDelivered(t, 90*time.Second)
	products := s.oneReservationPerProduct(t)
	answered := 0
	b.created.Range(func(k, _ any) bool {
		answered++
		var n int
		if err := s.DB.QueryRow(context.Background(), `SELECT count(*) FROM products.products WHERE id = $1`, k).Scan(&n); err != nil || n != 1 {
			t.Errorf("product %s answered 201 but stored %d times (%v)", k, n, err)
		}
		return true
	})
	rows, again, dead := s.applicantsWhole(t, b, deals)
	t.Logf("after the restart: %d products stored (%d answered 201), each with one reservation; %d applicants with a row, %d applied again (%d of them admitted before the kill without a row: refused until the lease ran out)",
		products, answered, rows, again, dead)
}

// account is a real account: signed up and logged in through the API.
type account struct {
	user
	Username, Password string
}

func (s *stack) signup(t *testing.T) account {
	t.Helper()
	suffix := uuid.NewString()
	a := account{Username: "f" + suffix[:8] + suffix[9:12], Password: "Faults!" + suffix[:8]}
	status, body, err := s.call("POST", "/api/v1/auth/signup", map[string]any{
		"username": a.Username, "password": a.Password, "userRole": "USER",
		"name": "Fault", "nickname": "f" + suffix[:6],
		"chatTimeRanges": []map[string]string{{"dayOfWeek": "MONDAY", "startTime": "09:00", "endTime": "18:00"}},
	}, "")
	if err != nil || status != http.StatusCreated {
		t.Fatalf("signup: %d %s %v", status, body, err)
	}
	var created struct {
		UserID uuid.UUID `json:"userId"`
	}
	if err := data(body, &created); err != nil {
		t.Fatal(err)
	}
	a.ID = created.UserID
	a.Token = s.login(t, a)
	return a
}

func (s *stack) login(t *testing.T, a account) string {
	t.Helper()
	status, body, err := s.call("POST", "/api/v1/auth/login", map[string]string{"username": a.Username, "password": a.Password}, "")
	if err != nil || status != http.StatusOK {
		t.Fatalf("login %s: %d %s %v", a.Username, status, body, err)
	}
	var p struct {
		AccessToken string `json:"accessToken"`
	}
	if err := data(body, &p); err != nil {
		t.Fatal(err)
	}
	return p.AccessToken
}

// revokedTokens are tokens that must never work again: one logged out, one from before a
// password change.
func (s *stack) revokedTokens(t *testing.T) []string {
	t.Helper()
	out := s.signup(t)
	if status, body, err := s.call("POST", "/api/v1/auth/logout", nil, out.Token); err != nil || status != http.StatusNoContent {
		t.Fatalf("logout: %d %s %v", status, body, err)
	}
	changed := s.signup(t)
	if status, body, err := s.call("PATCH", "/api/v1/users/me", map[string]string{"password": "Changed!" + uuid.NewString()[:8]}, changed.Token); err != nil || status != http.StatusOK {
		t.Fatalf("change password: %d %s %v", status, body, err)
	}
	return []string{out.Token, changed.Token}
}

// refused checks every token is refused now.
func (s *stack) refused(t *testing.T, tokens []string, when string) {
	t.Helper()
	for i, token := range tokens {
		status, body, err := s.call("GET", "/api/v1/users/me", nil, token)
		if err != nil || status != http.StatusUnauthorized {
			t.Fatalf("%s: revoked token %d answered %d %s (%v)", when, i, status, body, err)
		}
	}
}

// noServerErrors fails on any answer that is a 500: faults answer 503 with a code.
func (b *burst) noServerErrors(t *testing.T) {
	t.Helper()
	b.statuses.Range(func(k, _ any) bool {
		var status int
		var code string
		_, _ = fmt.Sscanf(k.(string), "%d %s", &status, &code) // a key without a code leaves code "", checked below
		if status >= 500 && (status != http.StatusServiceUnavailable || code == "") {
			t.Errorf("answered %s: a fault must be a 503 with a code", k)
		}
		return true
	})
}

// Redis stopped during applies and logins and started empty (Memorystore keeps nothing):
// requests meanwhile answer 503 with a code, revoked tokens stay revoked, and the queues
// are rebuilt from PostgreSQL with every applicant whole.
func TestRedisRestartedEmpty(t *testing.T) {
	t.Parallel()
	s := startStack(t)
	deals := s.openDeals(t, 2)
	revoked := s.revokedTokens(t)
	accounts := make([]account, 20)
	for i := range accounts {
		accounts[i] = s.signup(t)
	}
	b := &burst{applies: 600}
	var logins sync.WaitGroup
	stopLogins := make(chan struct{})
	var loginStatuses sync.Map
	for _, a := range accounts {
		logins.Add(1)
		go func() {
			defer logins.Done()
			for {
				select {
				case <-stopLogins:
					return
				default:
				}
				status, body, err := s.call("POST", "/api/v1/auth/login", map[string]string{"username": a.Username, "password": a.Password}, "")
				if err == nil {
					b.count(status, errorCode(body))
					n, _ := loginStatuses.LoadOrStore(status, new(atomic.Int64))
					n.(*atomic.Int64).Add(1)
				}
			}
		}()
	}
	b.run(t, s, deals, 8, func() {
		s.Redis.Kill()
		// The outage lasts until requests have met it.
		testenv.Eventually(t, 20*time.Second, "answers during the Redis outage", func() bool { return b.during.Load() >= 10 })
		s.Redis.Start()
	})
	close(stopLogins)
	logins.Wait()
	t.Logf("applies and logins across the Redis restart: %d answered%s, %d cut off", b.answered.Load(), b.summary(), b.failures.Load())
	b.noServerErrors(t)
	s.refused(t, revoked, "after Redis came back empty")
	for _, a := range accounts[:3] {
		s.login(t, a)
	}
	rows, again, dead := s.applicantsWhole(t, b, deals)
	s.allDelivered(t, 60*time.Second)
	t.Logf("after the restart: %d applicants with a row, %d applied again (%d refused until the lease ran out); revoked tokens refused", rows, again, dead)
}

// PostgreSQL restarted in the middle of a burst of creates and applies: requests meanwhile
// answer 503 with a code, every 201 is stored, and everything committed is delivered once.
func TestPostgresRestartDuringBurst(t *testing.T) {
	t.Parallel()
	s := startStack(t)
	deals := s.openDeals(t, 2)
	b := &burst{creates: 200, applies: 200}
	b.run(t, s, deals, 32, func() {
		s.PG.Stop()
		s.PG.Start()
	})
	t.Logf("across the PostgreSQL restart: %d answered%s, %d cut off", b.answered.Load(), b.summary(), b.failures.Load())
	b.noServerErrors(t)
	s.DB.Reset() // the pool's connections died with the server
	s.allDelivered(t, 90*time.Second)
	products := s.oneReservationPerProduct(t)
	b.created.Range(func(k, _ any) bool {
		var n int
		if err := s.DB.QueryRow(context.Background(), `SELECT count(*) FROM products.products WHERE id = $1`, k).Scan(&n); err != nil || n != 1 {
			t.Errorf("product %s answered 201 but stored %d times (%v)", k, n, err)
		}
		return true
	})
	rows, again, dead := s.applicantsWhole(t, b, deals)
	t.Logf("after the restart: %d products, each with one reservation; %d applicants with a row, %d applied again (%d refused until the lease ran out)", products, rows, again, dead)
}

// The backbone unavailable for a while: the standalone broker frozen (hung, or cut off
// from the stack) during a burst of creates and applies. Writes do not wait for it; once
// it answers again, every committed event is delivered and applied once.
func TestBackboneUnavailable(t *testing.T) {
	t.Parallel()
	_, kfakeBin := binaries(t)
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	broker := newProc(t, "kfake", kfakeBin, []string{"-listen", addr}, nil)
	broker.start()
	s := startStack(t, "KAFKA_BROKERS="+addr)
	deals := s.openDeals(t, 1)
	b := &burst{creates: 150, applies: 50}
	b.run(t, s, deals, 16, func() {
		broker.freeze()
		time.Sleep(5 * time.Second) // the outage; the writes meanwhile are the point
		broker.thaw()
	})
	t.Logf("across the broker outage: %d answered%s, %d cut off", b.answered.Load(), b.summary(), b.failures.Load())
	b.noServerErrors(t)
	s.allDelivered(t, 120*time.Second)
	products := s.oneReservationPerProduct(t)
	t.Logf("after the outage: %d products, each with one reservation", products)
}
