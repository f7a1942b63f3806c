package tradecompleted_test

import (
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

const consumer = "reservations-trade-completed"

func tradeOf(deal rt.Deal) events.TradeData {
	return events.TradeData{TradeID: uuid.New(), ReservationID: deal.ID, ProductID: deal.ProductID, SellerID: deal.Seller.UserID, BuyerID: uuid.New()}
}

func deliver(t *testing.T, st *stacktest.Stack, id uuid.UUID, d events.TradeData) {
	t.Helper()
	eventtest.MustDeliver(t, st, consumer, events.TradeCompleted, events.SourceTrades, id, d)
}

func closes(t *testing.T, st *stacktest.Stack, id uuid.UUID) int {
	t.Helper()
	n := 0
	for _, h := range rt.History(t, st, id) {
		if h.To == "CLOSED" {
			n++
		}
	}
	return n
}

func TestTradeCompleted(t *testing.T) {
	t.Parallel()
	st := stacktest.Start(t)

	// The trade completed: the reservation is closed, once per event, however the event
	// is delivered. Put back to COMPLETED by hand, a redelivery of the same event still
	// does nothing (the inbox, not the status, stops it); a new event closes it again.
	t.Run("closes once per event", func(t *testing.T) {
		t.Parallel()
		deal := rt.Open(t, st, -time.Second, time.Hour)
		users := rt.Users(t, st, 2)
		rt.Completed(t, st, deal, users...)
		trade, eventID := tradeOf(deal), uuid.New()
		for i, status := range eventtest.DeliverAtOnce(t, st, 5, consumer, events.TradeCompleted, events.SourceTrades, eventID, trade) {
			if status/100 != 2 {
				t.Fatalf("delivery %d: status %d", i, status)
			}
		}
		deliver(t, st, eventID, trade)
		row := rt.Read(t, st, deal.ID)
		if row.Status != "CLOSED" || row.BuyerID == nil || *row.BuyerID != users[0].UserID || row.Version != 4 {
			t.Fatalf("stored %+v", row)
		}
		h := rt.History(t, st, deal.ID)
		if last := h[len(h)-1]; last.From != "COMPLETED" || last.To != "CLOSED" || last.ChangedBy != nil || closes(t, st, deal.ID) != 1 {
			t.Fatalf("history %+v", h)
		}
		if n := eventtest.InboxRows(t, st.Kit.DB, consumer, eventID); n != 1 {
			t.Fatalf("%d inbox rows", n)
		}
		if d := rt.MustGet(t, st, deal.ID, users[0].Token); d.Status != reservations.Closed {
			t.Fatalf("the buyer sees %s", d.Status)
		}

		rt.Exec(t, st, `UPDATE reservations.reservations SET status = 'COMPLETED' WHERE id = $1`, deal.ID)
		deliver(t, st, eventID, trade)
		if row := rt.Read(t, st, deal.ID); row.Status != "COMPLETED" || closes(t, st, deal.ID) != 1 {
			t.Fatalf("the same event applied twice: %+v", row)
		}
		deliver(t, st, uuid.New(), trade)
		if row := rt.Read(t, st, deal.ID); row.Status != "CLOSED" || closes(t, st, deal.ID) != 2 {
			t.Fatalf("a new event did not apply: %+v", row)
		}
		// Closed is terminal: the one still in line was never promoted.
		if apps := rt.Applications(t, st, deal.ID); apps[users[1].UserID] != "WAITING" {
			t.Fatalf("applications %v", apps)
		}
	})

	// Only a reservation handed to its trade is closed; any other is acknowledged and left.
	for _, tc := range []struct {
		name string
		prep func(t *testing.T, d rt.Deal)
	}{
		{"available", func(*testing.T, rt.Deal) {}},
		{"pending", func(t *testing.T, d rt.Deal) { rt.Queue(t, st, d.ID, rt.NewUser(t, st, auth.RoleUser)) }},
		{"paid", func(t *testing.T, d rt.Deal) {
			rt.Queue(t, st, d.ID, rt.NewUser(t, st, auth.RoleUser))
			rt.MustAct(t, st, d.ID, "paymentconfirm", nil, rt.NewUser(t, st, auth.RoleMaster).Token)
		}},
		{"cancelled", func(t *testing.T, d rt.Deal) {
			rt.MustAct(t, st, d.ID, "cancel/seller", rt.Reason("withdrawn"), d.Seller.Token)
		}},
	} {
		t.Run("left alone when "+tc.name, func(t *testing.T) {
			t.Parallel()
			deal := rt.Open(t, st, -time.Second, time.Hour)
			tc.prep(t, deal)
			before := rt.Read(t, st, deal.ID)
			eventID := uuid.New()
			deliver(t, st, eventID, tradeOf(deal))
			if after := rt.Read(t, st, deal.ID); after.Status != before.Status || after.Version != before.Version {
				t.Fatalf("before %+v, after %+v", before, after)
			}
			if n := eventtest.InboxRows(t, st.Kit.DB, consumer, eventID); n != 1 {
				t.Fatalf("%d inbox rows", n)
			}
		})
	}
}
