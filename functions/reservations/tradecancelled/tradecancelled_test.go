package tradecancelled_test

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
	"github.com/8949market/market/shared/events/eventtest"
	"github.com/8949market/market/shared/reservations"
	rt "github.com/8949market/market/shared/reservations/reservationtest"
)

const consumer = "reservations-trade-cancelled"

func deliver(t *testing.T, st *stacktest.Stack, id uuid.UUID, deal rt.Deal, buyer uuid.UUID) {
	t.Helper()
	eventtest.MustDeliver(t, st, consumer, events.TradeCancelled, events.SourceTrades, id, events.TradeData{
		TradeID: uuid.New(), ReservationID: deal.ID, ProductID: deal.ProductID, SellerID: deal.Seller.UserID, BuyerID: buyer,
		Reason: "buyer never showed up"})
}

func TestTradeCancelled(t *testing.T) {
	t.Parallel()
	st := stacktest.Start(t)

	// The trade of a completed reservation is cancelled: the next in line becomes the
	// buyer with a payment deadline of their own, once per event.
	t.Run("promotes the next applicant once per event", func(t *testing.T) {
		t.Parallel()
		deal := rt.Open(t, st, -time.Second, time.Hour)
		users := rt.Users(t, st, 3)
		a, b, c := users[0], users[1], users[2]
		rt.Completed(t, st, deal, users...)
		eventID := uuid.New()
		before := time.Now()
		deliver(t, st, eventID, deal, a.UserID)
		deliver(t, st, eventID, deal, a.UserID)

		d := rt.MustGet(t, st, deal.ID, b.Token)
		if d.Status != reservations.Pending || d.Buyer == nil || d.Buyer.UserID != b.UserID ||
			d.PaymentDeadline == nil || d.PaymentDeadline.Before(before.Add(30*time.Minute)) {
			t.Fatalf("after trade-cancelled: %+v", d)
		}
		if w := rt.MustGet(t, st, deal.ID, c.Token); w.MyApplication.Status != "WAITING" || w.MyApplication.Place != 1 {
			t.Fatalf("last in line: %+v", w.MyApplication)
		}
		if apps := rt.Applications(t, st, deal.ID); apps[a.UserID] != "CANCELLED" || apps[b.UserID] != "SELECTED" {
			t.Fatalf("applications %v", apps)
		}
		h := rt.History(t, st, deal.ID)
		if len(h) != 4 || h[3].From != "COMPLETED" || h[3].To != "PENDING" || h[3].ChangedBy != nil ||
			!strings.Contains(h[3].Comment, "buyer never showed up") {
			t.Fatalf("history %+v", h)
		}
		evs := rt.Events(t, st, deal.ID)
		want := []string{events.ReservationApplied, events.ReservationCompleted, events.ReservationApplied}
		if !slices.Equal(rt.Topics(evs), want) || *evs[2].Data.BuyerID != b.UserID || evs[2].Data.BuyerNickname != b.Nickname || evs[2].Data.Version != 4 {
			t.Fatalf("events %v, want %v", rt.Topics(evs), want)
		}
		if n := eventtest.InboxRows(t, st.Kit.DB, consumer, eventID); n != 1 {
			t.Fatalf("%d inbox rows", n)
		}

		// Put back to COMPLETED by hand: the same event still does nothing (the inbox stops
		// it, not the status); a new one moves the queue on to C.
		rt.Exec(t, st, `UPDATE reservations.reservations SET status = 'COMPLETED' WHERE id = $1`, deal.ID)
		deliver(t, st, eventID, deal, a.UserID)
		if row := rt.Read(t, st, deal.ID); row.Status != "COMPLETED" || *row.BuyerID != b.UserID || len(rt.History(t, st, deal.ID)) != 4 {
			t.Fatalf("the same event applied twice: %+v", row)
		}
		deliver(t, st, uuid.New(), deal, b.UserID)
		if row := rt.Read(t, st, deal.ID); row.Status != "PENDING" || *row.BuyerID != c.UserID {
			t.Fatalf("a new event: %+v, want C as buyer", row)
		}
	})

	// Nobody in line and the window still open: the deal is on sale again.
	t.Run("reopens with nobody waiting", func(t *testing.T) {
		t.Parallel()
		deal := rt.Open(t, st, -time.Second, time.Hour)
		buyer := rt.NewUser(t, st, auth.RoleUser)
		rt.Completed(t, st, deal, buyer)
		deliver(t, st, uuid.New(), deal, buyer.UserID)
		row := rt.Read(t, st, deal.ID)
		if row.Status != "AVAILABLE" || row.BuyerID != nil || row.PaymentDeadline != nil {
			t.Fatalf("stored %+v", row)
		}
		evs := rt.Events(t, st, deal.ID)
		if last := evs[len(evs)-1]; last.Topic != events.ReservationCancelled || last.Data.Status != "AVAILABLE" {
			t.Fatalf("events %v", rt.Topics(evs))
		}
		res, _ := rt.Apply(t, st, deal.ID, buyer.Token)
		res.Refused(t, http.StatusConflict, "R008")
		if app := rt.MustApply(t, st, deal.ID, rt.NewUser(t, st, auth.RoleUser).Token); app.Status != "SELECTED" {
			t.Fatalf("newcomer %+v", app)
		}
	})

	t.Run("left alone unless completed", func(t *testing.T) {
		t.Parallel()
		deal := rt.Open(t, st, -time.Second, time.Hour)
		users := rt.Users(t, st, 2)
		rt.Queue(t, st, deal.ID, users...)
		before := rt.Read(t, st, deal.ID)
		deliver(t, st, uuid.New(), deal, users[0].UserID)
		if after := rt.Read(t, st, deal.ID); after.Status != "PENDING" || after.Version != before.Version || *after.BuyerID != users[0].UserID {
			t.Fatalf("before %+v, after %+v", before, after)
		}
	})
}
