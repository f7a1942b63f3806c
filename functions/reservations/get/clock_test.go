package get_test

import (
	"testing"
	"time"

	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/devstack/stacktest"
	"github.com/8949market/market/shared/reservations"
	rt "github.com/8949market/market/shared/reservations/reservationtest"
)

// Deadlines and windows take effect on the read that notices them, with no sweep: a
// buyer whose payment deadline passed has lost the turn to the next applicant, and an
// open deal whose window closed with nobody waiting has ended.
func TestGetAppliesTheClock(t *testing.T) {
	t.Parallel()
	st := stacktest.Start(t)

	t.Run("payment deadline passed", func(t *testing.T) {
		t.Parallel()
		deal := rt.Open(t, st, -time.Second, time.Hour)
		users := rt.Users(t, st, 2)
		rt.Queue(t, st, deal.ID, users...)
		rt.PastDeadline(t, st, deal.ID)
		d := rt.MustGet(t, st, deal.ID, users[1].Token)
		if d.Status != reservations.Pending || d.Buyer == nil || d.Buyer.UserID != users[1].UserID || d.PaymentDeadline == nil || !d.PaymentDeadline.After(time.Now()) {
			t.Fatalf("after the deadline: %+v", d)
		}
	})

	t.Run("window closed with nobody", func(t *testing.T) {
		t.Parallel()
		deal := rt.Open(t, st, -time.Hour, -time.Millisecond)
		seller := rt.NewUser(t, st, auth.RoleManager)
		if d := rt.MustGet(t, st, deal.ID, seller.Token); d.Status != reservations.Cancelled {
			t.Fatalf("after the window: %s", d.Status)
		}
		if got := rt.Sweep(t, st); got.Ended != 0 {
			t.Fatalf("the sweep found %d more to end", got.Ended)
		}
	})
}
