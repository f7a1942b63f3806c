package reservationcompleted_test

import (
	"sync"
	"testing"

	"github.com/google/uuid"

	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/devstack/stacktest"
	"github.com/8949market/market/shared/events"
	"github.com/8949market/market/shared/events/eventtest"
	"github.com/8949market/market/shared/trades"
	"github.com/8949market/market/shared/trades/tradetest"
)

func deliver(t *testing.T, st *stacktest.Stack, eventID uuid.UUID, d any) {
	t.Helper()
	eventtest.MustDeliver(t, st, tradetest.ReservationCompleted, events.ReservationCompleted, events.SourceReservations, eventID, d)
}

// The consumer end to end: reservation-completed opens one trade per reservation,
// announced once, however often and under whatever event id it comes — the same event
// again, or many at once (what the trade is made of, and reservation-tradefail, are
// tested in shared/trades).
func TestOpensOnce(t *testing.T) {
	t.Parallel()
	st := stacktest.Start(t)
	buyer := tradetest.NewUser(t, st, auth.RoleUser)
	seller := tradetest.NewUser(t, st, auth.RoleUser)

	t.Run("same event twice", func(t *testing.T) {
		t.Parallel()
		d := tradetest.Reservation(buyer.Identity, seller.Identity)
		id := uuid.New()
		deliver(t, st, id, d)
		deliver(t, st, id, d)
		if n := eventtest.InboxRows(t, st.Kit.DB, tradetest.ReservationCompleted, id); n != 1 {
			t.Fatalf("%d inbox rows", n)
		}
		if got := wantOne(t, st, d.ReservationID); got.Status != trades.Trading || got.BuyerID != buyer.UserID {
			t.Fatalf("trade %+v", got)
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
				statuses[i] = eventtest.Deliver(t, st, tradetest.ReservationCompleted, events.ReservationCompleted,
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
	if n := tradetest.Count(t, st.Kit.DB, reservationID); n != 1 {
		t.Fatalf("%d trades for reservation %s", n, reservationID)
	}
	got, _ := tradetest.ByReservation(t, st.Kit.DB, reservationID)
	tradetest.WantTopics(t, st.Kit.DB, got.ID, events.TradeCreated)
	tradetest.WantTopics(t, st.Kit.DB, reservationID)
	return got
}

// A payload that cannot be read is refused, so that it is retried or dead-lettered.
func TestUnreadable(t *testing.T) {
	t.Parallel()
	st := stacktest.Start(t)
	for _, data := range []any{"not an object", map[string]any{"reservationId": "nope"}, map[string]any{"price": 100}} {
		if status := eventtest.Deliver(t, st, tradetest.ReservationCompleted, events.ReservationCompleted,
			events.SourceReservations, uuid.New(), data); status/100 == 2 {
			t.Errorf("payload %v acknowledged with %d", data, status)
		}
	}
}
