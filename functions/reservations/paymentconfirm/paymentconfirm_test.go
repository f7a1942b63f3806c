package paymentconfirm_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/devstack/stacktest"
	"github.com/8949market/market/shared/reservations"
	rt "github.com/8949market/market/shared/reservations/reservationtest"
)

// pending opens a deal with a buyer and one applicant in line.
func pending(t *testing.T, st *stacktest.Stack) (rt.Deal, rt.User, rt.User) {
	t.Helper()
	deal := rt.Open(t, st, -time.Second, time.Hour)
	users := rt.Users(t, st, 2)
	rt.Queue(t, st, deal.ID, users...)
	return deal, users[0], users[1]
}

func TestPaymentConfirm(t *testing.T) {
	t.Parallel()
	st := stacktest.Start(t)
	manager := rt.NewUser(t, st, auth.RoleManager)
	master := rt.NewUser(t, st, auth.RoleMaster)
	stranger := rt.NewUser(t, st, auth.RoleUser)

	// Only administrators confirm a payment: not the buyer, not the seller.
	t.Run("not an admin", func(t *testing.T) {
		t.Parallel()
		deal, buyer, second := pending(t, st)
		for _, who := range []rt.User{buyer, deal.Seller, second, stranger} {
			rt.Act(t, st, deal.ID, "paymentconfirm", nil, who.Token).Refused(t, http.StatusForbidden, "R005")
		}
		rt.Act(t, st, deal.ID, "paymentconfirm", nil, "").Refused(t, http.StatusUnauthorized, "C002")
		if row := rt.Read(t, st, deal.ID); row.Status != "PENDING" || row.Version != 1 {
			t.Fatalf("after refusals: %+v", row)
		}
	})

	for _, admin := range []rt.User{manager, master} {
		t.Run("by "+string(admin.Role), func(t *testing.T) {
			t.Parallel()
			deal, buyer, _ := pending(t, st)
			got := rt.MustAct(t, st, deal.ID, "paymentconfirm", nil, admin.Token)
			if got.Status != reservations.Paid || got.Buyer == nil || got.Buyer.UserID != buyer.UserID || got.PaymentDeadline != nil {
				t.Fatalf("after payment: %+v", got)
			}
			row := rt.Read(t, st, deal.ID)
			if row.Status != "PAID" || row.PaymentDeadline != nil || row.Version != 2 || *row.BuyerID != buyer.UserID {
				t.Fatalf("stored %+v", row)
			}
			h := rt.History(t, st, deal.ID)
			if len(h) != 2 || h[1].From != "PENDING" || h[1].To != "PAID" || h[1].ChangedBy == nil || *h[1].ChangedBy != admin.UserID {
				t.Fatalf("history %+v", h)
			}
			// Paid once: a second confirmation is a conflict and changes nothing.
			rt.Act(t, st, deal.ID, "paymentconfirm", nil, admin.Token).Refused(t, http.StatusConflict, "R004")
			if n := len(rt.History(t, st, deal.ID)); n != 2 {
				t.Fatalf("%d history rows after a second confirmation", n)
			}
			// Paid, the buyer is no longer swept away by a deadline.
			if d := rt.MustGet(t, st, deal.ID, buyer.Token); d.Status != reservations.Paid {
				t.Fatalf("buyer sees %s", d.Status)
			}
		})
	}

	// The deadline passed (no sweep has run yet): the payment is refused and the buyer's
	// turn is over, whatever the status column still says.
	t.Run("after the deadline", func(t *testing.T) {
		t.Parallel()
		deal, _, _ := pending(t, st)
		rt.PastDeadline(t, st, deal.ID)
		rt.Act(t, st, deal.ID, "paymentconfirm", nil, manager.Token).Refused(t, http.StatusConflict, "R004")
		if row := rt.Read(t, st, deal.ID); row.Status != "PENDING" || row.Version != 1 {
			t.Fatalf("after a late payment: %+v", row)
		}
	})

	t.Run("no buyer", func(t *testing.T) {
		t.Parallel()
		deal := rt.Open(t, st, -time.Second, time.Hour)
		rt.Act(t, st, deal.ID, "paymentconfirm", nil, manager.Token).Refused(t, http.StatusConflict, "R004")
	})

	t.Run("bad input", func(t *testing.T) {
		t.Parallel()
		st.Do(t, "PATCH", "/api/v1/reservations/not-a-uuid/paymentconfirm", nil, manager.Token).Refused(t, http.StatusBadRequest, "C015")
		rt.Act(t, st, uuid.New(), "paymentconfirm", nil, manager.Token).Refused(t, http.StatusNotFound, "R006")
	})
}
