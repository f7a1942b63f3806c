package reservationcancelled_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/devstack/stacktest"
	"github.com/8949market/market/shared/events"
	"github.com/8949market/market/shared/products"
	"github.com/8949market/market/shared/products/producttest"
)

// consumer is products-reservation-cancelled: the buyer's reservation was cancelled.
var consumer = producttest.Consumer{
	Name: "products-reservation-cancelled", Topic: events.ReservationCancelled, Source: events.SourceReservations,
	Event:  func(id uuid.UUID) any { return cancellation(id, 2) },
	Status: products.Reserving, Version: 1,
}

// cancellation is reservation-cancelled for product id at version.
func cancellation(id uuid.UUID, version int64) events.ReservationData {
	d := producttest.Reservation(id, version, "CANCELLED")
	d.Reason = "buyer cancelled"
	return d
}

func TestReservationCancelled(t *testing.T) {
	t.Parallel()
	st := stacktest.Start(t)
	token, _ := st.Token(t, auth.RoleUser)
	reader, _ := st.Token(t, auth.RoleUser)

	// The buyer is dropped: the deal is on sale again while its window is open, expired
	// once it has closed; from a reservation or from its trade alike.
	moves := []struct {
		name           string
		status         products.Status
		opened, closes time.Duration
		want           products.Status
	}{
		{"reserving, window open", products.Reserving, time.Minute, time.Hour, products.Reserving},
		{"reserving, window closed", products.Reserving, 2 * time.Hour, -time.Minute, products.Expired},
		{"in trade, window open", products.InTrade, time.Minute, time.Hour, products.Reserving},
		{"in trade, window closed", products.InTrade, 2 * time.Hour, -time.Minute, products.Expired},
		{"stored pending, window open", products.PendingReservation, time.Minute, time.Hour, products.Reserving},
	}
	for _, tt := range moves {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := producttest.OnSale(t, st, token, tt.status, tt.opened, tt.closes)
			producttest.Hold(t, st, p.ProductID, 1)
			eventID := uuid.New()
			producttest.Acked(t, consumer.Deliver(t, st, eventID, cancellation(p.ProductID, 2)))
			r := producttest.Read(t, st, p.ProductID)
			if r.Status != string(tt.want) || r.BuyerID != nil || r.Version != 2 {
				t.Errorf("row = %+v, want %s with no buyer at version 2", r, tt.want)
			}
			if v := producttest.Get(t, st, reader, p.ProductID); v.Status != tt.want {
				t.Errorf("GET status %s, want %s", v.Status, tt.want)
			}
			consumer.WantInbox(t, st, eventID, 1)
		})
	}

	// Out-of-order delivery: a cancellation older than (or as old as) the buyer the
	// product knows of leaves that buyer in place.
	for _, v := range []int64{2, 3} {
		t.Run(fmt.Sprintf("version %d after 3 is ignored", v), func(t *testing.T) {
			t.Parallel()
			p := producttest.OnSale(t, st, token, products.Reserving, 2*time.Hour, -time.Minute)
			buyer := producttest.Hold(t, st, p.ProductID, 3)
			producttest.Unmoved(t, st, p.ProductID, func() int { return consumer.Deliver(t, st, uuid.New(), cancellation(p.ProductID, v)) })
			if r := producttest.Read(t, st, p.ProductID); r.BuyerID == nil || *r.BuyerID != buyer {
				t.Errorf("buyer = %v, want %s", r.BuyerID, buyer)
			}
			// The window closed, but the buyer still holds the deal.
			if got := producttest.Get(t, st, reader, p.ProductID); got.Status != products.Reserving {
				t.Errorf("GET status %s, want RESERVING", got.Status)
			}
		})
	}

	for _, s := range []products.Status{products.SaleCanceled, products.Completed, products.Failed, products.Expired} {
		t.Run("ignored when "+string(s), func(t *testing.T) {
			t.Parallel()
			p := producttest.OnSale(t, st, token, s, time.Minute, time.Hour)
			producttest.Unmoved(t, st, p.ProductID, func() int { return consumer.Deliver(t, st, uuid.New(), cancellation(p.ProductID, 1)) })
		})
	}

	consumer.Check(t, st)
}
