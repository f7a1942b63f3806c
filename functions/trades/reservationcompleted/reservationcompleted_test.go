package reservationcompleted_test

import (
	"sync"
	"testing"

	"github.com/google/uuid"

	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/devstack/stacktest"
	"github.com/8949market/market/shared/events"
	"github.com/8949market/market/shared/trades"
	"github.com/8949market/market/shared/trades/tradetest"
)

func deliver(t *testing.T, st *stacktest.Stack, eventID uuid.UUID, d any) {
	t.Helper()
	tradetest.MustDeliver(t, st, tradetest.ReservationCompleted, events.ReservationCompleted, events.SourceReservations, eventID, d)
}

// reservation-completed opens one trade per reservation, however often and under
// whatever event id it comes, and announces it once.
func TestOpensOnce(t *testing.T) {
	t.Parallel()
	st := stacktest.Start(t)
	buyer := tradetest.NewUser(t, st, auth.RoleUser)
	seller := tradetest.NewUser(t, st, auth.RoleUser)

	t.Run("opened", func(t *testing.T) {
		t.Parallel()
		d := tradetest.Reservation(buyer.Identity, seller.Identity)
		deliver(t, st, uuid.New(), d)
		got, ok := tradetest.ByReservation(t, st, d.ReservationID)
		if !ok {
			t.Fatalf("no trade")
		}
		if got.Status != trades.Trading || got.BuyerStatus != trades.Trading || got.SellerStatus != trades.Trading ||
			got.BuyerID != buyer.UserID || got.BuyerNickname != buyer.Nickname || got.SellerID != seller.UserID ||
			got.SellerNickname != seller.Nickname || got.ProductID != d.ProductID || got.ProductName != d.ProductName ||
			got.ProductPrice != d.Price || got.ChatRoomID != nil || got.Version != 0 {
			t.Fatalf("trade %+v from %+v", got, d)
		}
		h := tradetest.History(t, st, got.ID)
		if len(h) != 1 || h[0].From != nil || h[0].To != "TRADING" || h[0].ActorID != nil ||
			h[0].ActorSide == nil || *h[0].ActorSide != string(trades.System) {
			t.Fatalf("history %+v", h)
		}
		evs := tradetest.WantTopics(t, st, got.ID, events.TradeCreated)
		if e := evs[0].Trade(t); e.TradeID != got.ID || e.ReservationID != d.ReservationID || e.ProductID != d.ProductID ||
			e.BuyerID != buyer.UserID || e.BuyerNickname != buyer.Nickname || e.SellerID != seller.UserID ||
			e.SellerNickname != seller.Nickname || e.ProductName != d.ProductName || evs[0].Source != events.SourceTrades {
			t.Fatalf("trade-created %+v from %s", e, evs[0].Source)
		}
	})
	t.Run("same event twice", func(t *testing.T) {
		t.Parallel()
		d := tradetest.Reservation(buyer.Identity, seller.Identity)
		id := uuid.New()
		deliver(t, st, id, d)
		deliver(t, st, id, d)
		if n := tradetest.InboxRows(t, st, tradetest.ReservationCompleted, id); n != 1 {
			t.Fatalf("%d inbox rows", n)
		}
		wantOne(t, st, d.ReservationID)
	})
	t.Run("another event for the same reservation", func(t *testing.T) {
		t.Parallel()
		d := tradetest.Reservation(buyer.Identity, seller.Identity)
		first, second := uuid.New(), uuid.New()
		deliver(t, st, first, d)
		before, _ := tradetest.ByReservation(t, st, d.ReservationID)
		deliver(t, st, second, d)
		for _, id := range []uuid.UUID{first, second} {
			if n := tradetest.InboxRows(t, st, tradetest.ReservationCompleted, id); n != 1 {
				t.Fatalf("event %s: %d inbox rows", id, n)
			}
		}
		if got := wantOne(t, st, d.ReservationID); got.ID != before.ID {
			t.Fatalf("trade %s replaced by %s", before.ID, got.ID)
		}
	})
	t.Run("after the trade moved on", func(t *testing.T) {
		t.Parallel()
		d := tradetest.Reservation(buyer.Identity, seller.Identity)
		deliver(t, st, uuid.New(), d)
		tr, _ := tradetest.ByReservation(t, st, d.ReservationID)
		tradetest.MustCancel(t, st, tr.ID, seller.Token, "PRODUCT_ISSUE", "")
		deliver(t, st, uuid.New(), d)
		if got := wantOne(t, st, d.ReservationID); got.Status != trades.Cancelled {
			t.Fatalf("redelivery reopened the trade: %+v", got)
		}
	})
	t.Run("many events at once", func(t *testing.T) {
		t.Parallel()
		d := tradetest.Reservation(buyer.Identity, seller.Identity)
		start := make(chan struct{})
		statuses := make([]int, 8)
		var wg sync.WaitGroup
		for i := range statuses {
			id := uuid.New()
			if i%2 == 1 {
				id = uuid.NewSHA1(uuid.NameSpaceOID, d.ReservationID[:]) // half share one id
			}
			wg.Go(func() {
				<-start
				statuses[i] = tradetest.Deliver(t, st, tradetest.ReservationCompleted, events.ReservationCompleted,
					events.SourceReservations, id, d)
			})
		}
		close(start)
		wg.Wait()
		for i, s := range statuses {
			if s/100 != 2 {
				t.Fatalf("delivery %d: status %d", i, s)
			}
		}
		wantOne(t, st, d.ReservationID)
	})
}

// wantOne fails the test unless reservation id has exactly one trade, announced once.
func wantOne(t *testing.T, st *stacktest.Stack, reservationID uuid.UUID) trades.Trade {
	t.Helper()
	if n := tradetest.Count(t, st, reservationID); n != 1 {
		t.Fatalf("%d trades for reservation %s", n, reservationID)
	}
	got, _ := tradetest.ByReservation(t, st, reservationID)
	evs := tradetest.Events(t, st, got.ID)
	created := 0
	for _, e := range evs {
		if e.Topic == events.TradeCreated {
			created++
		}
	}
	if created != 1 {
		t.Fatalf("events %v, want one trade-created", tradetest.Topics(evs))
	}
	if n := len(tradetest.History(t, st, got.ID)); n < 1 {
		t.Fatalf("no history")
	}
	if n := len(tradetest.Events(t, st, reservationID)); n != 0 {
		t.Fatalf("%d events on the reservation, want no reservation-tradefail", n)
	}
	return got
}

// A reservation that cannot become a trade opens none; reservation-tradefail tells the
// reservation and the product, once however often the event comes.
func TestTradeFail(t *testing.T) {
	t.Parallel()
	st := stacktest.Start(t)
	buyer := tradetest.NewUser(t, st, auth.RoleUser)
	seller := tradetest.NewUser(t, st, auth.RoleUser)
	nilID := uuid.Nil
	for _, c := range []struct {
		name   string
		mutate func(d *events.ReservationData)
	}{
		{"buyer is the seller", func(d *events.ReservationData) { b := d.SellerID; d.BuyerID = &b }},
		{"no buyer", func(d *events.ReservationData) { d.BuyerID, d.BuyerNickname = nil, "" }},
		{"nil buyer", func(d *events.ReservationData) { d.BuyerID = &nilID }},
		{"price 0", func(d *events.ReservationData) { d.Price = 0 }},
		{"negative price", func(d *events.ReservationData) { d.Price = -5000 }},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			d := tradetest.Reservation(buyer.Identity, seller.Identity)
			c.mutate(&d)
			id := uuid.New()
			deliver(t, st, id, d)
			deliver(t, st, id, d)
			if n := tradetest.Count(t, st, d.ReservationID); n != 0 {
				t.Fatalf("%d trades opened", n)
			}
			evs := tradetest.WantTopics(t, st, d.ReservationID, events.ReservationTradeFail)
			f := evs[0].TradeFail(t)
			if f.ReservationID != d.ReservationID || f.ProductID != d.ProductID || f.Reason == "" || evs[0].Source != events.SourceTrades {
				t.Fatalf("reservation-tradefail %+v from %s", f, evs[0].Source)
			}
			var n int
			if err := st.Kit.DB.QueryRow(t.Context(), `SELECT count(*) FROM messaging.outbox WHERE topic = $1 AND payload->>'reservationId' = $2`,
				events.TradeCreated, d.ReservationID.String()).Scan(&n); err != nil || n != 0 {
				t.Fatalf("%d trade-created for a failed reservation (%v)", n, err)
			}
		})
	}
}

// A payload that cannot be read is refused, so that it is retried or dead-lettered.
func TestUnreadable(t *testing.T) {
	t.Parallel()
	st := stacktest.Start(t)
	for _, data := range []any{"not an object", map[string]any{"reservationId": "nope"}, map[string]any{"price": 100}} {
		if status := tradetest.Deliver(t, st, tradetest.ReservationCompleted, events.ReservationCompleted,
			events.SourceReservations, uuid.New(), data); status/100 == 2 {
			t.Errorf("payload %v acknowledged with %d", data, status)
		}
	}
}
