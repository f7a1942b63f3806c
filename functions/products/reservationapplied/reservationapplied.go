// Package reservationapplied is the function products-reservation-applied: it consumes
// reservation-applied and records the reservation's buyer, so the deal does not expire
// while the buyer pays and trades (products.OnReservationApplied).
package reservationapplied

import (
	"github.com/8949market/market/shared/events"
	"github.com/8949market/market/shared/inbox"
	"github.com/8949market/market/shared/platform"
	"github.com/8949market/market/shared/products"
	"github.com/8949market/market/shared/registry"
)

const name = "products-reservation-applied"

func init() {
	registry.Event(name, events.ReservationApplied, New)
}

// New builds the consumer.
func New(kit *platform.Kit) registry.EventHandler {
	return inbox.Handle(kit.DB, name, products.OnReservationApplied)
}
