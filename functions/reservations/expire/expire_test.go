package expire_test

import (
	"net/http"
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

func TestExpire(t *testing.T) {
	t.Parallel()
	st := stacktest.Start(t)
	manager := rt.NewUser(t, st, auth.RoleManager)
	master := rt.NewUser(t, st, auth.RoleMaster)
	stranger := rt.NewUser(t, st, auth.RoleUser)

	t.Run("only administrators", func(t *testing.T) {
		t.Parallel()
		deal := rt.Open(t, st, -time.Second, time.Hour)
		users := rt.Users(t, st, 2)
		rt.Queue(t, st, deal.ID, users...)
		for _, who := range []rt.User{users[0], users[1], deal.Seller, stranger} {
			rt.Act(t, st, deal.ID, "expire", rt.Reason("too slow"), who.Token).Refused(t, http.StatusForbidden, "R005")
		}
		rt.Act(t, st, deal.ID, "expire", rt.Reason("too slow"), "").Refused(t, http.StatusUnauthorized, "C002")
		rt.Act(t, st, deal.ID, "expire", map[string]any{}, manager.Token).Refused(t, http.StatusBadRequest, "R001")
		if row := rt.Read(t, st, deal.ID); row.Status != "PENDING" || *row.BuyerID != users[0].UserID || row.Version != 1 {
			t.Fatalf("after refusals: %+v", row)
		}
	})

	for _, admin := range []rt.User{manager, master} {
		t.Run("promotes the next, by "+string(admin.Role), func(t *testing.T) {
			t.Parallel()
			deal := rt.Open(t, st, -time.Second, time.Hour)
			users := rt.Users(t, st, 3)
			rt.Queue(t, st, deal.ID, users...)
			got := rt.MustAct(t, st, deal.ID, "expire", rt.Reason("buyer unreachable"), admin.Token)
			if got.Status != reservations.Pending || got.Buyer == nil || got.Buyer.UserID != users[1].UserID ||
				got.PaymentDeadline == nil || !got.PaymentDeadline.After(time.Now()) || got.QueueLength != 1 {
				t.Fatalf("after expiry: %+v", got)
			}
			if apps := rt.Applications(t, st, deal.ID); apps[users[0].UserID] != "CANCELLED" || apps[users[1].UserID] != "SELECTED" || apps[users[2].UserID] != "WAITING" {
				t.Fatalf("applications %v", apps)
			}
			h := rt.History(t, st, deal.ID)
			if len(h) != 2 || h[1].From != "PENDING" || h[1].To != "PENDING" || h[1].ChangedBy == nil || *h[1].ChangedBy != admin.UserID ||
				!strings.Contains(h[1].Comment, "buyer unreachable") {
				t.Fatalf("history %+v", h)
			}
			evs := rt.Events(t, st, deal.ID)
			if len(evs) != 2 || evs[1].Topic != events.ReservationApplied || *evs[1].Data.BuyerID != users[1].UserID || evs[1].Data.Version != 2 {
				t.Fatalf("events %v", rt.Topics(evs))
			}
			if w := rt.MustGet(t, st, deal.ID, users[2].Token); w.MyApplication.Place != 1 {
				t.Fatalf("last in line at %d, want 1", w.MyApplication.Place)
			}
		})
	}

	t.Run("nobody waiting reopens", func(t *testing.T) {
		t.Parallel()
		deal := rt.Open(t, st, -time.Second, time.Hour)
		buyer := rt.NewUser(t, st, auth.RoleUser)
		rt.Queue(t, st, deal.ID, buyer)
		if got := rt.MustAct(t, st, deal.ID, "expire", rt.Reason("x"), manager.Token); got.Status != reservations.Available || got.Buyer != nil {
			t.Fatalf("after expiry: %+v", got)
		}
		if evs := rt.Events(t, st, deal.ID); len(evs) != 2 || evs[1].Topic != events.ReservationCancelled {
			t.Fatalf("events %v", rt.Topics(evs))
		}
		// The buyer's place is free again: a newcomer takes it; the expired buyer may not.
		res, _ := rt.Apply(t, st, deal.ID, buyer.Token)
		res.Refused(t, http.StatusConflict, "R008")
		if app := rt.MustApply(t, st, deal.ID, rt.NewUser(t, st, auth.RoleUser).Token); app.Status != "SELECTED" {
			t.Fatalf("newcomer %+v", app)
		}
	})

	t.Run("not awaiting payment", func(t *testing.T) {
		t.Parallel()
		deal := rt.Open(t, st, -time.Second, time.Hour)
		rt.Act(t, st, deal.ID, "expire", rt.Reason("x"), manager.Token).Refused(t, http.StatusConflict, "R004")
		rt.Queue(t, st, deal.ID, rt.NewUser(t, st, auth.RoleUser))
		rt.MustAct(t, st, deal.ID, "paymentconfirm", nil, manager.Token)
		rt.Act(t, st, deal.ID, "expire", rt.Reason("x"), manager.Token).Refused(t, http.StatusConflict, "R004")
		if row := rt.Read(t, st, deal.ID); row.Status != "PAID" {
			t.Fatalf("paid reservation is now %s", row.Status)
		}
	})

	t.Run("bad input", func(t *testing.T) {
		t.Parallel()
		st.Do(t, "PATCH", "/api/v1/reservations/not-a-uuid/expire", rt.Reason("x"), manager.Token).Refused(t, http.StatusBadRequest, "C015")
		rt.Act(t, st, uuid.New(), "expire", rt.Reason("x"), manager.Token).Refused(t, http.StatusNotFound, "R006")
	})
}
