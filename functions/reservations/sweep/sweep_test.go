package sweep_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/devstack/stacktest"
	"github.com/8949market/market/shared/events"
	"github.com/8949market/market/shared/reservations"
	rt "github.com/8949market/market/shared/reservations/reservationtest"
)

// The sweep acts on every reservation of the stack's database, so each test here has a
// stack of its own and its steps run in order.

// Buyers whose payment deadline passed lose their turn: the next in line takes it, or
// the deal reopens (window open) or ends (window closed). A second sweep finds nothing.
func TestSweepExpiredPayments(t *testing.T) {
	t.Parallel()
	st := stacktest.Start(t)
	admin := rt.NewUser(t, st, auth.RoleManager)

	queued := rt.Open(t, st, -time.Second, time.Hour)
	qUsers := rt.Users(t, st, 3)
	rt.Queue(t, st, queued.ID, qUsers...)
	alone := rt.Open(t, st, -time.Second, time.Hour)
	aloneBuyer := rt.NewUser(t, st, auth.RoleUser)
	rt.Queue(t, st, alone.ID, aloneBuyer)
	ended := rt.Open(t, st, -time.Second, time.Hour)
	endedBuyer := rt.NewUser(t, st, auth.RoleUser)
	rt.Queue(t, st, ended.ID, endedBuyer)
	notDue := rt.Open(t, st, -time.Second, time.Hour)
	rt.Queue(t, st, notDue.ID, rt.Users(t, st, 2)...)

	for _, d := range []rt.Deal{queued, alone, ended} {
		rt.PastDeadline(t, st, d.ID)
	}
	rt.Exec(t, st, `UPDATE reservations.reservations SET end_time = clock_timestamp() - interval '1 second' WHERE id = $1`, ended.ID)

	// Past the deadline, the payment is refused even before any sweep.
	rt.Act(t, st, queued.ID, "paymentconfirm", nil, admin.Token).Refused(t, http.StatusConflict, "R004")

	before := time.Now()
	if got := rt.Sweep(t, st); got != (reservations.SweepResult{Expired: 3}) {
		t.Fatalf("sweep %+v, want 3 payments expired", got)
	}

	// The next in line is the buyer, with a deadline of their own.
	d := rt.MustGet(t, st, queued.ID, qUsers[1].Token)
	if d.Status != reservations.Pending || d.Buyer == nil || d.Buyer.UserID != qUsers[1].UserID ||
		d.PaymentDeadline == nil || d.PaymentDeadline.Before(before.Add(30*time.Minute)) {
		t.Fatalf("after the sweep: %+v", d)
	}
	if w := rt.MustGet(t, st, queued.ID, qUsers[2].Token); w.MyApplication.Status != "WAITING" || w.MyApplication.Place != 1 {
		t.Fatalf("last in line: %+v", w.MyApplication)
	}
	if apps := rt.Applications(t, st, queued.ID); apps[qUsers[0].UserID] != "CANCELLED" {
		t.Fatalf("expired buyer's application %s", apps[qUsers[0].UserID])
	}
	h := rt.History(t, st, queued.ID)
	if len(h) != 2 || h[1].From != "PENDING" || h[1].To != "PENDING" || h[1].ChangedBy != nil || !strings.Contains(h[1].Comment, "deadline") {
		t.Fatalf("history %+v", h)
	}
	if evs := rt.Events(t, st, queued.ID); !slices.Equal(rt.Topics(evs), []string{events.ReservationApplied, events.ReservationApplied}) ||
		*evs[1].Data.BuyerID != qUsers[1].UserID {
		t.Fatalf("events %v", rt.Topics(evs))
	}

	for _, tc := range []struct {
		deal rt.Deal
		want string
	}{{alone, "AVAILABLE"}, {ended, "CANCELLED"}} {
		row := rt.Read(t, st, tc.deal.ID)
		if row.Status != tc.want || row.BuyerID != nil || row.PaymentDeadline != nil {
			t.Fatalf("buyer alone, expired: %+v, want %s", row, tc.want)
		}
		if evs := rt.Events(t, st, tc.deal.ID); !slices.Equal(rt.Topics(evs), []string{events.ReservationApplied, events.ReservationCancelled}) ||
			evs[1].Data.Status != tc.want {
			t.Fatalf("events %v", rt.Topics(evs))
		}
	}
	if row := rt.Read(t, st, notDue.ID); row.Status != "PENDING" || row.Version != 1 {
		t.Fatalf("a reservation not due was changed: %+v", row)
	}

	if got := rt.Sweep(t, st); got != (reservations.SweepResult{}) {
		t.Fatalf("second sweep %+v, want nothing", got)
	}
	if n := len(rt.History(t, st, queued.ID)); n != 2 {
		t.Fatalf("%d history rows after the second sweep", n)
	}
	// The promoted buyer pays within their own deadline.
	rt.MustAct(t, st, queued.ID, "paymentconfirm", nil, admin.Token)
	if row := rt.Read(t, st, queued.ID); row.Status != "PAID" || *row.BuyerID != qUsers[1].UserID {
		t.Fatalf("the new buyer's payment: %+v", row)
	}
}

// Deals whose window closed with nobody holding them end; a queue without a buyer (a
// place lost between Redis and Postgres) gets one, once it has been so for 5 seconds.
func TestSweepEndedDealsAndLostBuyers(t *testing.T) {
	t.Parallel()
	st := stacktest.Start(t)
	endedEmpty := rt.Open(t, st, -2*time.Hour, -time.Second)
	endedQueued := rt.Open(t, st, -2*time.Hour, -time.Second)
	lost := rt.Open(t, st, -time.Minute, time.Hour)
	fresh := rt.Open(t, st, -time.Minute, time.Hour)
	open := rt.Open(t, st, -time.Minute, time.Hour)
	notYet := rt.Open(t, st, time.Hour, 2*time.Hour)

	waiting := func(d rt.Deal, age time.Duration, n int) []uuid.UUID {
		users := make([]uuid.UUID, n)
		for i := range users {
			users[i] = uuid.New()
			rt.Exec(t, st, `
				INSERT INTO reservations.applications (reservation_id, position, user_id, nickname, status, created_at)
				VALUES ($1, $2, $3, $4, 'WAITING', clock_timestamp() - make_interval(secs => $5))`,
				d.ID, i+1, users[i], "nick"+users[i].String()[:6], age.Seconds())
		}
		return users
	}
	eq := waiting(endedQueued, time.Minute, 2)
	lu := waiting(lost, 10*time.Second, 2)
	waiting(fresh, 0, 1)

	if got := rt.Sweep(t, st); got != (reservations.SweepResult{Ended: 2, Promoted: 1}) {
		t.Fatalf("sweep %+v, want 2 deals ended and 1 repaired", got)
	}

	row := rt.Read(t, st, endedEmpty.ID)
	if row.Status != "CANCELLED" {
		t.Fatalf("ended deal with no buyer: %s", row.Status)
	}
	h := rt.History(t, st, endedEmpty.ID)
	if len(h) != 1 || h[0].From != "AVAILABLE" || h[0].To != "CANCELLED" || h[0].ChangedBy != nil {
		t.Fatalf("history %+v", h)
	}
	if evs := rt.Events(t, st, endedEmpty.ID); len(evs) != 1 || evs[0].Topic != events.ReservationCancelled || evs[0].Data.Status != "CANCELLED" {
		t.Fatalf("events %v", rt.Topics(evs))
	}

	// An applicant from inside the window still gets the deal after it ends.
	for _, tc := range []struct {
		deal  rt.Deal
		buyer uuid.UUID
	}{{endedQueued, eq[0]}, {lost, lu[0]}} {
		row := rt.Read(t, st, tc.deal.ID)
		if row.Status != "PENDING" || row.BuyerID == nil || *row.BuyerID != tc.buyer || row.PaymentDeadline == nil {
			t.Fatalf("queue without a buyer: %+v, want %s as buyer", row, tc.buyer)
		}
		if evs := rt.Events(t, st, tc.deal.ID); len(evs) != 1 || evs[0].Topic != events.ReservationApplied || *evs[0].Data.BuyerID != tc.buyer {
			t.Fatalf("events %v", rt.Topics(evs))
		}
	}
	for _, d := range []rt.Deal{fresh, open, notYet} {
		if row := rt.Read(t, st, d.ID); row.Status != "AVAILABLE" || row.Version != 0 {
			t.Fatalf("a reservation with nothing due was changed: %+v", row)
		}
	}

	if got := rt.Sweep(t, st); got != (reservations.SweepResult{}) {
		t.Fatalf("second sweep %+v, want nothing", got)
	}
}

// Five sweeps at once over many due reservations move each exactly once.
func TestSweepConcurrent(t *testing.T) {
	t.Parallel()
	st := stacktest.Start(t)
	const queued, alone, ended = 8, 3, 4
	var qDeals, aDeals, eDeals []rt.Deal
	var next []uuid.UUID
	for range queued {
		d := rt.Open(t, st, -time.Second, time.Hour)
		users := rt.Users(t, st, 2)
		rt.Queue(t, st, d.ID, users...)
		rt.PastDeadline(t, st, d.ID)
		qDeals, next = append(qDeals, d), append(next, users[1].UserID)
	}
	for range alone {
		d := rt.Open(t, st, -time.Second, time.Hour)
		rt.Queue(t, st, d.ID, rt.NewUser(t, st, auth.RoleUser))
		rt.PastDeadline(t, st, d.ID)
		aDeals = append(aDeals, d)
	}
	for range ended {
		eDeals = append(eDeals, rt.Open(t, st, -2*time.Hour, -time.Second))
	}

	var total reservations.SweepResult
	for _, r := range rt.SweepAtOnce(t, st, 5) {
		total.Expired += r.Expired
		total.Ended += r.Ended
		total.Promoted += r.Promoted
	}
	if want := (reservations.SweepResult{Expired: queued + alone, Ended: ended}); total != want {
		t.Fatalf("concurrent sweeps did %+v in all, want %+v", total, want)
	}

	for i, d := range qDeals {
		row := rt.Read(t, st, d.ID)
		if row.Status != "PENDING" || *row.BuyerID != next[i] || row.Version != 2 {
			t.Fatalf("queued deal %d: %+v", i, row)
		}
		if n := len(rt.History(t, st, d.ID)); n != 2 {
			t.Fatalf("queued deal %d: %d history rows, want 2", i, n)
		}
		if n := len(rt.Events(t, st, d.ID)); n != 2 {
			t.Fatalf("queued deal %d: %d events, want 2", i, n)
		}
	}
	for i, d := range aDeals {
		if row := rt.Read(t, st, d.ID); row.Status != "AVAILABLE" || row.Version != 2 {
			t.Fatalf("lone buyer deal %d: %+v", i, row)
		}
		if n := len(rt.History(t, st, d.ID)); n != 2 {
			t.Fatalf("lone buyer deal %d: %d history rows, want 2", i, n)
		}
		if evs := rt.Events(t, st, d.ID); len(evs) != 2 {
			t.Fatalf("lone buyer deal %d: events %v", i, rt.Topics(evs))
		}
	}
	for i, d := range eDeals {
		if row := rt.Read(t, st, d.ID); row.Status != "CANCELLED" || row.Version != 1 {
			t.Fatalf("ended deal %d: %+v", i, row)
		}
		if n := len(rt.History(t, st, d.ID)); n != 1 {
			t.Fatalf("ended deal %d: %d history rows, want 1", i, n)
		}
		if evs := rt.Events(t, st, d.ID); len(evs) != 1 {
			t.Fatalf("ended deal %d: events %v", i, rt.Topics(evs))
		}
	}
	if got := rt.Sweep(t, st); got != (reservations.SweepResult{}) {
		t.Fatalf("a sweep after them %+v, want nothing", got)
	}
}
