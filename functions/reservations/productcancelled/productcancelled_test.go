package productcancelled_test

import (
	"net/http"
	"slices"
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

const consumer = "reservations-product-cancelled"

func cancelled(productID uuid.UUID) events.ProductCancelledData {
	return events.ProductCancelledData{ProductID: productID, By: uuid.New()}
}

func TestProductCancelled(t *testing.T) {
	t.Parallel()
	st := stacktest.Start(t)
	admin := rt.NewUser(t, st, auth.RoleManager)

	// The product's sale ends: the reservation is cancelled with its whole queue, once,
	// however often and however concurrently the event is delivered.
	t.Run("pending with a queue, delivered again and at once", func(t *testing.T) {
		t.Parallel()
		deal := rt.Open(t, st, -time.Second, time.Hour)
		users := rt.Users(t, st, 3)
		rt.Queue(t, st, deal.ID, users...)
		eventID := uuid.New()
		for i, status := range eventtest.DeliverAtOnce(t, st, 5, consumer, events.ProductCancelled, events.SourceProducts, eventID, cancelled(deal.ProductID)) {
			if status/100 != 2 {
				t.Fatalf("delivery %d: status %d", i, status)
			}
		}
		eventtest.MustDeliver(t, st, consumer, events.ProductCancelled, events.SourceProducts, eventID, cancelled(deal.ProductID))

		row := rt.Read(t, st, deal.ID)
		if row.Status != "CANCELLED" || row.BuyerID != nil || row.Version != 2 {
			t.Fatalf("stored %+v", row)
		}
		for u, s := range rt.Applications(t, st, deal.ID) {
			if s != "CANCELLED" {
				t.Fatalf("application of %s is %s", u, s)
			}
		}
		h := rt.History(t, st, deal.ID)
		if len(h) != 2 || h[1].From != "PENDING" || h[1].To != "CANCELLED" || h[1].ChangedBy != nil {
			t.Fatalf("history %+v", h)
		}
		evs := rt.Events(t, st, deal.ID)
		if !slices.Equal(rt.Topics(evs), []string{events.ReservationApplied, events.ReservationCancelled}) || evs[1].Data.Status != "CANCELLED" {
			t.Fatalf("events %v", rt.Topics(evs))
		}
		if n := eventtest.InboxRows(t, st.Kit.DB, consumer, eventID); n != 1 {
			t.Fatalf("%d inbox rows", n)
		}
		// Another delivery of the news (a new event id) finds it cancelled already.
		eventtest.MustDeliver(t, st, consumer, events.ProductCancelled, events.SourceProducts, uuid.New(), cancelled(deal.ProductID))
		if n := len(rt.Events(t, st, deal.ID)); n != 2 {
			t.Fatalf("%d events after a second product-cancelled", n)
		}
		if n := len(rt.History(t, st, deal.ID)); n != 2 {
			t.Fatalf("%d history rows after a second product-cancelled", n)
		}
		// The queue is released: nobody can apply.
		res, _ := rt.Apply(t, st, deal.ID, rt.NewUser(t, st, auth.RoleUser).Token)
		res.Refused(t, http.StatusConflict, "R004")
	})

	for _, tc := range []struct {
		name string
		prep func(t *testing.T, d rt.Deal)
		from string
	}{
		{"available before the window", func(*testing.T, rt.Deal) {}, "AVAILABLE"},
		{"paid", func(t *testing.T, d rt.Deal) {
			rt.MoveWindow(t, st, d.ID, -time.Second, time.Hour)
			rt.Queue(t, st, d.ID, rt.NewUser(t, st, auth.RoleUser))
			rt.MustAct(t, st, d.ID, "paymentconfirm", nil, admin.Token)
		}, "PAID"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			deal := rt.Open(t, st, time.Hour, 2*time.Hour)
			tc.prep(t, deal)
			eventtest.MustDeliver(t, st, consumer, events.ProductCancelled, events.SourceProducts, uuid.New(), cancelled(deal.ProductID))
			if row := rt.Read(t, st, deal.ID); row.Status != "CANCELLED" || row.BuyerID != nil {
				t.Fatalf("stored %+v", row)
			}
			if h := rt.History(t, st, deal.ID); h[len(h)-1].From != tc.from || h[len(h)-1].To != "CANCELLED" {
				t.Fatalf("history %+v", h)
			}
			if evs := rt.Events(t, st, deal.ID); evs[len(evs)-1].Topic != events.ReservationCancelled {
				t.Fatalf("events %v", rt.Topics(evs))
			}
		})
	}

	// A product-cancelled that arrives after the reservation went to its trade (the two
	// crossed, or a late redelivery) must not take the reservation from its trade. (The
	// consumer answers it with an error, so the bridge retries and parks it; whether it
	// should rather be acknowledged is a cross-domain decision not asserted here.)
	for _, final := range []reservations.Status{reservations.Completed, reservations.Closed} {
		t.Run("after the trade, "+string(final), func(t *testing.T) {
			t.Parallel()
			deal := rt.Open(t, st, -time.Second, time.Hour)
			rt.Completed(t, st, deal, rt.Users(t, st, 2)...)
			if final == reservations.Closed {
				eventtest.MustDeliver(t, st, "reservations-trade-completed", events.TradeCompleted, events.SourceTrades, uuid.New(),
					events.TradeData{TradeID: uuid.New(), ReservationID: deal.ID, ProductID: deal.ProductID})
			}
			before := rt.Read(t, st, deal.ID)
			status := eventtest.Deliver(t, st, consumer, events.ProductCancelled, events.SourceProducts, uuid.New(), cancelled(deal.ProductID))
			t.Logf("product-cancelled on a %s reservation: status %d", final, status)
			if after := rt.Read(t, st, deal.ID); after.Status != string(final) || after.Version != before.Version {
				t.Fatalf("before %+v, after %+v", before, after)
			}
		})
	}

	// product-cancelled can overtake product-created (two topics): it is refused with a
	// 503 and recorded nowhere until the reservation exists, then cancels it.
	t.Run("before its reservation opens", func(t *testing.T) {
		t.Parallel()
		product, eventID := uuid.New(), uuid.New()
		if status := eventtest.Deliver(t, st, consumer, events.ProductCancelled, events.SourceProducts, eventID, cancelled(product)); status != http.StatusServiceUnavailable {
			t.Fatalf("cancelled before created: status %d, want 503", status)
		}
		if n := eventtest.InboxRows(t, st.Kit.DB, consumer, eventID); n != 0 {
			t.Fatalf("%d inbox rows for a refused event", n)
		}
		rt.Created(t, st, product)
		eventtest.MustDeliver(t, st, consumer, events.ProductCancelled, events.SourceProducts, eventID, cancelled(product))
		if n := eventtest.InboxRows(t, st.Kit.DB, consumer, eventID); n != 1 {
			t.Fatalf("%d inbox rows", n)
		}
		var status string
		if err := st.Kit.DB.QueryRow(t.Context(), `SELECT status FROM reservations.reservations WHERE product_id = $1`, product).Scan(&status); err != nil || status != "CANCELLED" {
			t.Fatalf("reservation %q (%v), want CANCELLED", status, err)
		}
	})

	// End to end: the seller cancels the product through its API; the relay carries
	// product-cancelled here.
	t.Run("through the products API", func(t *testing.T) {
		t.Parallel()
		deal := rt.Listed(t, st, "Record player")
		users := rt.Users(t, st, 2)
		rt.Queue(t, st, deal.ID, users...)
		rt.Settle(t, st) // the product has its buyer (reservation-applied)
		res := st.Do(t, "PATCH", "/api/v1/products/"+deal.ProductID.String()+"/cancel", nil, deal.Seller.Token)
		if res.Status != http.StatusOK {
			t.Fatalf("cancel product: %d %s", res.Status, res.Body)
		}
		rt.Settle(t, st)
		if d := rt.MustGet(t, st, deal.ID, users[1].Token); d.Status != reservations.Cancelled || d.MyApplication.Status != "CANCELLED" {
			t.Fatalf("after the product was cancelled: %+v", d)
		}
	})
}
