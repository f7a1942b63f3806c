package reservationcompleted_test

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

// consumer is products-reservation-completed: the buyer paid.
var consumer = producttest.Consumer{
	Name: "products-reservation-completed", Topic: events.ReservationCompleted, Source: events.SourceReservations,
	Event:  func(id uuid.UUID) any { return completion(id, 2) },
	Status: products.Reserving, Version: 1,
}

// completion is reservation-completed for product id at version, by a new buyer.
func completion(id uuid.UUID, version int64) events.ReservationData {
	buyer := uuid.New()
	d := producttest.Reservation(id, version, "COMPLETED")
	d.BuyerID = &buyer
	return d
}

func TestReservationCompleted(t *testing.T) {
	t.Parallel()
	st := stacktest.Start(t)
	token, _ := st.Token(t, auth.RoleUser)
	reader, _ := st.Token(t, auth.RoleUser)

	// The buyer paid: the deal goes to its trade, window open or closed, and keeps its
	// buyer.
	moves := []struct {
		name           string
		status         products.Status
		opened, closes time.Duration
	}{
		{"window open", products.Reserving, time.Minute, time.Hour},
		{"window open, tick not run", products.PendingReservation, time.Minute, time.Hour},
		{"window closed while the buyer held it", products.Reserving, 2 * time.Hour, -time.Minute},
		{"expired by the tick before the event arrived", products.Expired, 2 * time.Hour, -time.Minute},
	}
	for _, tt := range moves {
		t.Run("to IN_TRADE: "+tt.name, func(t *testing.T) {
			t.Parallel()
			p := producttest.OnSale(t, st, token, tt.status, tt.opened, tt.closes)
			buyer := producttest.Hold(t, st, p.ProductID, 1)
			eventID := uuid.New()
			producttest.Acked(t, consumer.Deliver(t, st, eventID, completion(p.ProductID, 2)))
			r := producttest.Read(t, st, p.ProductID)
			if r.Status != string(products.InTrade) || r.BuyerID == nil || *r.BuyerID != buyer || r.Version != 2 {
				t.Errorf("row = %+v, want IN_TRADE with buyer %s at version 2", r, buyer)
			}
			if v := producttest.Get(t, st, reader, p.ProductID); v.Status != products.InTrade {
				t.Errorf("GET status %s, want IN_TRADE", v.Status)
			}
			consumer.WantInbox(t, st, eventID, 1)
		})
	}

	// Out-of-order delivery: the product has seen version 3 (say the reservation was
	// cancelled after it completed); version 2 or 3 again changes nothing.
	for _, v := range []int64{2, 3} {
		t.Run(fmt.Sprintf("version %d after 3 is ignored", v), func(t *testing.T) {
			t.Parallel()
			p := producttest.OnSale(t, st, token, products.Reserving, time.Minute, time.Hour)
			producttest.Hold(t, st, p.ProductID, 3)
			producttest.Unmoved(t, st, p.ProductID, func() int { return consumer.Deliver(t, st, uuid.New(), completion(p.ProductID, v)) })
			if got := producttest.Get(t, st, reader, p.ProductID); got.Status != products.Reserving {
				t.Errorf("GET status %s, want RESERVING", got.Status)
			}
		})
	}

	for _, s := range []products.Status{products.SaleCanceled, products.Completed, products.Failed, products.InTrade} {
		t.Run("ignored when "+string(s), func(t *testing.T) {
			t.Parallel()
			p := producttest.OnSale(t, st, token, s, time.Minute, time.Hour)
			producttest.Unmoved(t, st, p.ProductID, func() int { return consumer.Deliver(t, st, uuid.New(), completion(p.ProductID, 1)) })
		})
	}

	consumer.Check(t, st)
}
