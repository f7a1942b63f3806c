package complete_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/devstack/stacktest"
	"github.com/8949market/market/shared/events"
	"github.com/8949market/market/shared/events/eventtest"
	"github.com/8949market/market/shared/reservations"
	rt "github.com/8949market/market/shared/reservations/reservationtest"
)

// The whole sale: apply, payment confirmed by an administrator, completed by the seller
// (reservation-completed carries both parties for the trade), and the trade's completion
// closes the reservation, once however often it is delivered.
func TestHappyPath(t *testing.T) {
	t.Parallel()
	st := stacktest.Start(t)
	deal := rt.Listed(t, st, "Espresso machine")
	users := rt.Users(t, st, 2)
	buyer, second := users[0], users[1]
	rt.Queue(t, st, deal.ID, users...)
	admin := rt.NewUser(t, st, auth.RoleManager)

	if got := rt.MustAct(t, st, deal.ID, "paymentconfirm", nil, admin.Token); got.Status != reservations.Paid {
		t.Fatalf("after payment: %s", got.Status)
	}
	got := rt.MustAct(t, st, deal.ID, "complete", nil, deal.Seller.Token)
	if got.Status != reservations.Completed || got.Buyer == nil || got.Buyer.UserID != buyer.UserID {
		t.Fatalf("after completion: %+v", got)
	}

	evs := rt.Events(t, st, deal.ID)
	if len(evs) != 2 || evs[0].Topic != events.ReservationApplied || evs[1].Topic != events.ReservationCompleted {
		t.Fatalf("events %v, want reservation-applied, reservation-completed", rt.Topics(evs))
	}
	done := evs[1]
	if done.Data.ReservationID != deal.ID || done.Data.ProductID != deal.ProductID || done.Data.Status != "COMPLETED" ||
		done.Data.SellerID != deal.Seller.UserID || done.Data.BuyerID == nil || *done.Data.BuyerID != buyer.UserID ||
		done.Data.Price != 5000 || done.Data.Version != 3 {
		t.Fatalf("reservation-completed %+v", done.Data)
	}
	// The trade is opened from this event alone: it names both parties.
	if done.Raw["buyerNickname"] != buyer.Nickname {
		t.Fatalf("reservation-completed buyerNickname %v, want %q: %v", done.Raw["buyerNickname"], buyer.Nickname, done.Raw)
	}
	if done.Raw["sellerNickname"] != deal.Seller.Nickname {
		t.Errorf("reservation-completed sellerNickname %v, want %q: %v", done.Raw["sellerNickname"], deal.Seller.Nickname, done.Raw)
	}
	if h := rt.History(t, st, deal.ID); len(h) != 3 || h[2].From != "PAID" || h[2].To != "COMPLETED" || *h[2].ChangedBy != deal.Seller.UserID {
		t.Fatalf("history %+v", h)
	}

	// The trade completes; delivered twice with one id, it closes the reservation once.
	trade := events.TradeData{TradeID: uuid.New(), ReservationID: deal.ID, ProductID: deal.ProductID,
		SellerID: deal.Seller.UserID, BuyerID: buyer.UserID}
	eventID := uuid.New()
	for range 2 {
		eventtest.MustDeliver(t, st, "reservations-trade-completed", events.TradeCompleted, events.SourceTrades, eventID, trade)
	}
	if d := rt.MustGet(t, st, deal.ID, buyer.Token); d.Status != reservations.Closed {
		t.Fatalf("after trade-completed: %s", d.Status)
	}
	if h := rt.History(t, st, deal.ID); len(h) != 4 || h[3].From != "COMPLETED" || h[3].To != "CLOSED" || h[3].ChangedBy != nil {
		t.Fatalf("history %+v", h)
	}
	if n := eventtest.InboxRows(t, st.Kit.DB, "reservations-trade-completed", eventID); n != 1 {
		t.Fatalf("%d inbox rows", n)
	}
	// The one still in line was never promoted; a closed deal takes no application.
	if apps := rt.Applications(t, st, deal.ID); apps[second.UserID] != "WAITING" || apps[buyer.UserID] != "SELECTED" {
		t.Fatalf("applications %v", apps)
	}
	late := rt.NewUser(t, st, auth.RoleUser)
	res, _ := rt.Apply(t, st, deal.ID, late.Token)
	res.Refused(t, http.StatusConflict, "R004")
	// Nothing can be done to a closed reservation.
	rt.Act(t, st, deal.ID, "cancel/seller", rt.Reason("x"), deal.Seller.Token).Refused(t, http.StatusConflict, "R004")
	rt.Act(t, st, deal.ID, "cancel/buyer", rt.Reason("x"), buyer.Token).Refused(t, http.StatusConflict, "R004")
	rt.Act(t, st, deal.ID, "complete", nil, deal.Seller.Token).Refused(t, http.StatusConflict, "R004")
}

func TestCompleteAccess(t *testing.T) {
	t.Parallel()
	st := stacktest.Start(t)
	admin := rt.NewUser(t, st, auth.RoleMaster)
	stranger := rt.NewUser(t, st, auth.RoleUser)
	// paid opens a deal whose buyer has paid, with one applicant in line.
	paid := func(t *testing.T) (rt.Deal, rt.User, rt.User) {
		deal := rt.Open(t, st, -time.Second, time.Hour)
		users := rt.Users(t, st, 2)
		rt.Queue(t, st, deal.ID, users...)
		rt.MustAct(t, st, deal.ID, "paymentconfirm", nil, admin.Token)
		return deal, users[0], users[1]
	}

	t.Run("only the seller or an admin", func(t *testing.T) {
		t.Parallel()
		deal, buyer, second := paid(t)
		for _, who := range []rt.User{buyer, second, stranger} {
			rt.Act(t, st, deal.ID, "complete", nil, who.Token).Refused(t, http.StatusForbidden, "R005")
		}
		rt.Act(t, st, deal.ID, "complete", nil, "").Refused(t, http.StatusUnauthorized, "C002")
		if row := rt.Read(t, st, deal.ID); row.Status != "PAID" {
			t.Fatalf("after refusals: %s", row.Status)
		}
		if n := len(rt.Events(t, st, deal.ID)); n != 1 {
			t.Fatalf("%d events after refusals", n)
		}
	})
	t.Run("admin", func(t *testing.T) {
		t.Parallel()
		deal, _, _ := paid(t)
		if got := rt.MustAct(t, st, deal.ID, "complete", nil, admin.Token); got.Status != reservations.Completed {
			t.Fatalf("status %s", got.Status)
		}
		rt.Act(t, st, deal.ID, "complete", nil, admin.Token).Refused(t, http.StatusConflict, "R004")
		if n := len(rt.Events(t, st, deal.ID)); n != 2 {
			t.Fatalf("%d events, want one reservation-completed", n)
		}
	})
	t.Run("not paid yet", func(t *testing.T) {
		t.Parallel()
		deal := rt.Open(t, st, -time.Second, time.Hour)
		rt.Act(t, st, deal.ID, "complete", nil, deal.Seller.Token).Refused(t, http.StatusConflict, "R004")
		rt.Queue(t, st, deal.ID, rt.NewUser(t, st, auth.RoleUser))
		rt.Act(t, st, deal.ID, "complete", nil, deal.Seller.Token).Refused(t, http.StatusConflict, "R004")
	})
	t.Run("bad input", func(t *testing.T) {
		t.Parallel()
		st.Do(t, "PATCH", "/api/v1/reservations/not-a-uuid/complete", nil, admin.Token).Refused(t, http.StatusBadRequest, "C015")
		rt.Act(t, st, uuid.New(), "complete", nil, admin.Token).Refused(t, http.StatusNotFound, "R006")
	})
}
