package reservationcompleted_test

import (
	"testing"

	"github.com/google/uuid"

	"github.com/8949market/market/shared/devstack/stacktest"
	"github.com/8949market/market/shared/events"
	"github.com/8949market/market/shared/products"
	"github.com/8949market/market/shared/products/producttest"
)

// consumer is products-reservation-completed: the buyer paid.
var consumer = producttest.Consumer{
	Name: "products-reservation-completed", Topic: events.ReservationCompleted, Source: events.SourceReservations,
	Event: func(id uuid.UUID) any {
		buyer := uuid.New()
		d := producttest.Reservation(id, 2, "COMPLETED")
		d.BuyerID = &buyer
		return d
	},
	Status: products.Reserving, Version: 1,
}

// The deal goes to its trade and keeps its buyer. Every move, out-of-order version and
// ended state: TestReservationEventsMoveTheDeal in shared/products.
func TestReservationCompleted(t *testing.T) {
	t.Parallel()
	st := stacktest.Start(t)
	consumer.Applies(t, st, func(t testing.TB, held, r producttest.Row, v products.View) {
		if r.Status != string(products.InTrade) || r.BuyerID == nil || *r.BuyerID != *held.BuyerID || r.Version != 2 {
			t.Errorf("row = %+v, want IN_TRADE with buyer %v at version 2", r, held.BuyerID)
		}
		if v.Status != products.InTrade {
			t.Errorf("GET status %s, want IN_TRADE", v.Status)
		}
	})
	consumer.Check(t, st)
}
