// Package reservationcompleted is the function products-reservation-completed: it consumes
// reservation-completed and moves the product to IN_TRADE
// (products.OnReservationCompleted).
package reservationcompleted

import (
	"github.com/8949market/market/shared/events"
	"github.com/8949market/market/shared/inbox"
	"github.com/8949market/market/shared/platform"
	"github.com/8949market/market/shared/products"
	"github.com/8949market/market/shared/registry"
)

const name = "products-reservation-completed"

func init() {
	registry.Event(name, events.ReservationCompleted, New)
}

// New builds the consumer.
func New(kit *platform.Kit) registry.EventHandler {
	return inbox.Handle(kit.DB, name, products.OnReservationCompleted)
}
