package tradefail_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/devstack/stacktest"
	"github.com/8949market/market/shared/events"
	"github.com/8949market/market/shared/events/eventtest"
	rt "github.com/8949market/market/shared/reservations/reservationtest"
)

const consumer = "reservations-reservation-tradefail"

func failure(deal rt.Deal) events.ReservationTradeFailData {
	return events.ReservationTradeFailData{ReservationID: deal.ID, ProductID: deal.ProductID, Reason: "CONFIRM_FAIL: no chat room"}
}

func TestTradeFail(t *testing.T) {
	t.Parallel()
	st := stacktest.Start(t)

	// The trade could not be opened: as with a cancelled trade, the next in line takes the
	// reservation, once however often and concurrently the event arrives.
	t.Run("promotes the next applicant once", func(t *testing.T) {
		t.Parallel()
		deal := rt.Open(t, st, -time.Second, time.Hour)
		users := rt.Users(t, st, 3)
		rt.Completed(t, st, deal, users...)
		eventID := uuid.New()
		for i, status := range eventtest.DeliverAtOnce(t, st, 5, consumer, events.ReservationTradeFail, events.SourceTrades, eventID, failure(deal)) {
			if status/100 != 2 {
				t.Fatalf("delivery %d: status %d", i, status)
			}
		}
		eventtest.MustDeliver(t, st, consumer, events.ReservationTradeFail, events.SourceTrades, eventID, failure(deal))

		row := rt.Read(t, st, deal.ID)
		if row.Status != "PENDING" || row.BuyerID == nil || *row.BuyerID != users[1].UserID || row.PaymentDeadline == nil || row.Version != 4 {
			t.Fatalf("stored %+v", row)
		}
		h := rt.History(t, st, deal.ID)
		if len(h) != 4 || h[3].From != "COMPLETED" || h[3].To != "PENDING" || !strings.Contains(h[3].Comment, "CONFIRM_FAIL: no chat room") {
			t.Fatalf("history %+v", h)
		}
		evs := rt.Events(t, st, deal.ID)
		if want := []string{events.ReservationApplied, events.ReservationCompleted, events.ReservationApplied}; !slices.Equal(rt.Topics(evs), want) {
			t.Fatalf("events %v, want %v", rt.Topics(evs), want)
		}
		if n := eventtest.InboxRows(t, st.Kit.DB, consumer, eventID); n != 1 {
			t.Fatalf("%d inbox rows", n)
		}
		if apps := rt.Applications(t, st, deal.ID); apps[users[0].UserID] != "CANCELLED" || apps[users[2].UserID] != "WAITING" {
			t.Fatalf("applications %v", apps)
		}
		// Put back to COMPLETED by hand, the same event is still not applied again.
		rt.Exec(t, st, `UPDATE reservations.reservations SET status = 'COMPLETED' WHERE id = $1`, deal.ID)
		eventtest.MustDeliver(t, st, consumer, events.ReservationTradeFail, events.SourceTrades, eventID, failure(deal))
		if row := rt.Read(t, st, deal.ID); row.Status != "COMPLETED" || len(rt.History(t, st, deal.ID)) != 4 {
			t.Fatalf("the same event applied twice: %+v", row)
		}
	})

	// Nobody in line and the window has closed: the deal ends.
	t.Run("ends after the window with nobody waiting", func(t *testing.T) {
		t.Parallel()
		deal := rt.Open(t, st, -time.Second, time.Hour)
		buyer := rt.NewUser(t, st, auth.RoleUser)
		rt.Completed(t, st, deal, buyer)
		rt.Exec(t, st, `UPDATE reservations.reservations SET start_time = clock_timestamp() - interval '2 hours',
			end_time = clock_timestamp() - interval '1 second' WHERE id = $1`, deal.ID)
		eventtest.MustDeliver(t, st, consumer, events.ReservationTradeFail, events.SourceTrades, uuid.New(), failure(deal))
		if row := rt.Read(t, st, deal.ID); row.Status != "CANCELLED" || row.BuyerID != nil {
			t.Fatalf("stored %+v", row)
		}
		evs := rt.Events(t, st, deal.ID)
		if last := evs[len(evs)-1]; last.Topic != events.ReservationCancelled || last.Data.Status != "CANCELLED" {
			t.Fatalf("events %v", rt.Topics(evs))
		}
		if apps := rt.Applications(t, st, deal.ID); apps[buyer.UserID] != "CANCELLED" {
			t.Fatalf("applications %v", apps)
		}
	})

	// A late failure for a trade that completed changes nothing.
	t.Run("left alone when closed", func(t *testing.T) {
		t.Parallel()
		deal := rt.Open(t, st, -time.Second, time.Hour)
		rt.Completed(t, st, deal, rt.Users(t, st, 2)...)
		eventtest.MustDeliver(t, st, "reservations-trade-completed", events.TradeCompleted, events.SourceTrades, uuid.New(),
			events.TradeData{TradeID: uuid.New(), ReservationID: deal.ID, ProductID: deal.ProductID})
		before := rt.Read(t, st, deal.ID)
		eventtest.MustDeliver(t, st, consumer, events.ReservationTradeFail, events.SourceTrades, uuid.New(), failure(deal))
		if after := rt.Read(t, st, deal.ID); after.Status != "CLOSED" || after.Version != before.Version {
			t.Fatalf("before %+v, after %+v", before, after)
		}
	})
}
