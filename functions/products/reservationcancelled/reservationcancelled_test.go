package reservationcancelled_test

import (
	"testing"

	"github.com/google/uuid"

	"github.com/8949market/market/shared/devstack/stacktest"
	"github.com/8949market/market/shared/events"
	"github.com/8949market/market/shared/products"
	"github.com/8949market/market/shared/products/producttest"
)

// consumer is products-reservation-cancelled: the buyer's reservation was cancelled.
var consumer = producttest.Consumer{
	Name: "products-reservation-cancelled", Topic: events.ReservationCancelled, Source: events.SourceReservations,
	Event: func(id uuid.UUID) any {
		d := producttest.Reservation(id, 2, "CANCELLED")
		d.Reason = "buyer cancelled"
		return d
	},
	Status: products.Reserving, Version: 1,
}

// The buyer is dropped and the deal, its window open, is on sale again. Every move,
// out-of-order version and ended state: TestReservationEventsMoveTheDeal in
// shared/products.
func TestReservationCancelled(t *testing.T) {
	t.Parallel()
	st := stacktest.Start(t)
	consumer.Applies(t, st, func(t testing.TB, _, r producttest.Row, v products.View) {
		if r.Status != string(products.Reserving) || r.BuyerID != nil || r.Version != 2 {
			t.Errorf("row = %+v, want RESERVING with no buyer at version 2", r)
		}
		if v.Status != products.Reserving {
			t.Errorf("GET status %s, want RESERVING", v.Status)
		}
	})
	consumer.Check(t, st)
}
