package reservations_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/events"
	"github.com/8949market/market/shared/reservations"
	rt "github.com/8949market/market/shared/reservations/reservationtest"
	"github.com/8949market/market/shared/testenv"
	"github.com/8949market/market/shared/testfactory"
)

// testBundle is a domain test's world: a database of its own (the sweep acts on every
// reservation in it), the shared Redis, and the use cases on them.
type testBundle struct {
	db  *pgxpool.Pool
	lc  *reservations.Lifecycle
	svc *reservations.Service
}

func setup(t *testing.T) *testBundle {
	t.Helper()
	db, rdb := testenv.DB(t), testenv.Redis(t)
	return &testBundle{db: db, lc: reservations.NewLifecycle(db, rdb, 0), svc: reservations.NewService(db, rdb, 0)}
}

// open inserts a reservation whose window is [start, end) from the database clock.
func (b *testBundle) open(t *testing.T, start, end time.Duration) reservations.Reservation {
	t.Helper()
	return testfactory.Reservation(t.Context(), t, b.db, &testfactory.ReservationOpts{StartsIn: start, EndsIn: end})
}

// queue applies users in order: the first becomes the buyer, the others wait.
func (b *testBundle) queue(t *testing.T, id uuid.UUID, users ...auth.Identity) {
	t.Helper()
	for i, u := range users {
		app, err := b.svc.Apply(t.Context(), id, u)
		if err != nil || (i == 0) != (app.Status == "SELECTED") {
			t.Fatalf("applicant %d: %+v %v", i, app, err)
		}
	}
}

func (b *testBundle) sweep(t *testing.T) reservations.SweepResult {
	t.Helper()
	res, err := b.lc.Sweep(context.Background(), 500)
	if err != nil {
		t.Fatalf("sweep: %v", err)
	}
	return res
}

func users(n int) []auth.Identity {
	out := make([]auth.Identity, n)
	for i := range out {
		id := uuid.New()
		out[i] = auth.Identity{UserID: id, Nickname: "user" + id.String()[:6], Role: auth.RoleUser}
	}
	return out
}

// Deals whose window closed with nobody holding them end; a queue without a buyer (a
// place lost between Redis and Postgres) gets one, once it has been so for 5 seconds.
func TestSweepEndedDealsAndLostBuyers(t *testing.T) {
	t.Parallel()
	b := setup(t)
	endedEmpty := b.open(t, -2*time.Hour, -time.Second)
	endedQueued := b.open(t, -2*time.Hour, -time.Second)
	lost := b.open(t, -time.Minute, time.Hour)
	fresh := b.open(t, -time.Minute, time.Hour)
	open := b.open(t, -time.Minute, time.Hour)
	notYet := b.open(t, time.Hour, 2*time.Hour)

	waiting := func(d reservations.Reservation, age time.Duration, n int) []uuid.UUID {
		users := make([]uuid.UUID, n)
		for i := range users {
			users[i] = uuid.New()
			rt.Exec(t, b.db, `
				INSERT INTO reservations.applications (reservation_id, position, user_id, nickname, status, created_at)
				VALUES ($1, $2, $3, $4, 'WAITING', clock_timestamp() - make_interval(secs => $5))`,
				d.ID, i+1, users[i], "nick"+users[i].String()[:6], age.Seconds())
		}
		return users
	}
	eq := waiting(endedQueued, time.Minute, 2)
	lu := waiting(lost, 10*time.Second, 2)
	waiting(fresh, 0, 1)

	if got := b.sweep(t); got != (reservations.SweepResult{Ended: 2, Promoted: 1}) {
		t.Fatalf("sweep %+v, want 2 deals ended and 1 repaired", got)
	}

	row := rt.Read(t, b.db, endedEmpty.ID)
	if row.Status != "CANCELLED" {
		t.Fatalf("ended deal with no buyer: %s", row.Status)
	}
	h := rt.History(t, b.db, endedEmpty.ID)
	if len(h) != 1 || h[0].From != "AVAILABLE" || h[0].To != "CANCELLED" || h[0].ChangedBy != nil {
		t.Fatalf("history %+v", h)
	}
	if evs := rt.Events(t, b.db, endedEmpty.ID); len(evs) != 1 || evs[0].Topic != events.ReservationCancelled || evs[0].Data.Status != "CANCELLED" {
		t.Fatalf("events %v", rt.Topics(evs))
	}

	// An applicant from inside the window still gets the deal after it ends.
	for _, tc := range []struct {
		deal  reservations.Reservation
		buyer uuid.UUID
	}{{endedQueued, eq[0]}, {lost, lu[0]}} {
		row := rt.Read(t, b.db, tc.deal.ID)
		if row.Status != "PENDING" || row.BuyerID == nil || *row.BuyerID != tc.buyer || row.PaymentDeadline == nil {
			t.Fatalf("queue without a buyer: %+v, want %s as buyer", row, tc.buyer)
		}
		if evs := rt.Events(t, b.db, tc.deal.ID); len(evs) != 1 || evs[0].Topic != events.ReservationApplied || *evs[0].Data.BuyerID != tc.buyer {
			t.Fatalf("events %v", rt.Topics(evs))
		}
	}
	for _, d := range []reservations.Reservation{fresh, open, notYet} {
		if row := rt.Read(t, b.db, d.ID); row.Status != "AVAILABLE" || row.Version != 0 {
			t.Fatalf("a reservation with nothing due was changed: %+v", row)
		}
	}

	if got := b.sweep(t); got != (reservations.SweepResult{}) {
		t.Fatalf("second sweep %+v, want nothing", got)
	}
}

// Five sweeps at once over many due reservations move each exactly once.
func TestSweepConcurrent(t *testing.T) {
	t.Parallel()
	b := setup(t)
	const queued, alone, ended = 8, 3, 4
	var qDeals, aDeals, eDeals []reservations.Reservation
	var next []uuid.UUID
	for range queued {
		d := b.open(t, -time.Second, time.Hour)
		us := users(2)
		b.queue(t, d.ID, us...)
		rt.PastDeadline(t, b.db, d.ID)
		qDeals, next = append(qDeals, d), append(next, us[1].UserID)
	}
	for range alone {
		d := b.open(t, -time.Second, time.Hour)
		b.queue(t, d.ID, users(1)...)
		rt.PastDeadline(t, b.db, d.ID)
		aDeals = append(aDeals, d)
	}
	for range ended {
		eDeals = append(eDeals, b.open(t, -2*time.Hour, -time.Second))
	}

	start := make(chan struct{})
	results := make([]reservations.SweepResult, 5)
	errs := make([]error, 5)
	var wg sync.WaitGroup
	for i := range results {
		wg.Go(func() {
			<-start
			results[i], errs[i] = b.lc.Sweep(context.Background(), 500)
		})
	}
	close(start)
	wg.Wait()
	var total reservations.SweepResult
	for i, r := range results {
		if errs[i] != nil {
			t.Fatalf("sweep %d: %v", i, errs[i])
		}
		total.Expired += r.Expired
		total.Ended += r.Ended
		total.Promoted += r.Promoted
	}
	if want := (reservations.SweepResult{Expired: queued + alone, Ended: ended}); total != want {
		t.Fatalf("concurrent sweeps did %+v in all, want %+v", total, want)
	}

	for i, d := range qDeals {
		row := rt.Read(t, b.db, d.ID)
		if row.Status != "PENDING" || *row.BuyerID != next[i] || row.Version != 2 {
			t.Fatalf("queued deal %d: %+v", i, row)
		}
		if n := len(rt.History(t, b.db, d.ID)); n != 2 {
			t.Fatalf("queued deal %d: %d history rows, want 2", i, n)
		}
		if n := len(rt.Events(t, b.db, d.ID)); n != 2 {
			t.Fatalf("queued deal %d: %d events, want 2", i, n)
		}
	}
	for i, d := range aDeals {
		if row := rt.Read(t, b.db, d.ID); row.Status != "AVAILABLE" || row.Version != 2 {
			t.Fatalf("lone buyer deal %d: %+v", i, row)
		}
		if n := len(rt.History(t, b.db, d.ID)); n != 2 {
			t.Fatalf("lone buyer deal %d: %d history rows, want 2", i, n)
		}
		if evs := rt.Events(t, b.db, d.ID); len(evs) != 2 {
			t.Fatalf("lone buyer deal %d: events %v", i, rt.Topics(evs))
		}
	}
	for i, d := range eDeals {
		if row := rt.Read(t, b.db, d.ID); row.Status != "CANCELLED" || row.Version != 1 {
			t.Fatalf("ended deal %d: %+v", i, row)
		}
		if n := len(rt.History(t, b.db, d.ID)); n != 1 {
			t.Fatalf("ended deal %d: %d history rows, want 1", i, n)
		}
		if evs := rt.Events(t, b.db, d.ID); len(evs) != 1 {
			t.Fatalf("ended deal %d: events %v", i, rt.Topics(evs))
		}
	}
	if got := b.sweep(t); got != (reservations.SweepResult{}) {
		t.Fatalf("a sweep after them %+v, want nothing", got)
	}
}
