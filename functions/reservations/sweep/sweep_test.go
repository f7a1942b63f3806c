package sweep_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/devstack/stacktest"
	"github.com/8949market/market/shared/events"
	"github.com/8949market/market/shared/reservations"
	rt "github.com/8949market/market/shared/reservations/reservationtest"
)

// The end-to-end test of the route: the scheduler's POST runs the sweep on the stack's
// database. Its other rules (deals ended, lost buyers, concurrent sweeps) are tested on
// the domain (shared/reservations/sweep_test.go).

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
