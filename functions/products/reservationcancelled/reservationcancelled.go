// Package reservationcancelled is the function products-reservation-cancelled: it consumes
// reservation-cancelled and drops the buyer: the product is on sale again while its window
// is open, EXPIRED once it has closed (products.OnReservationCancelled).
package reservationcancelled

import (
	"github.com/8949market/market/shared/events"
	"github.com/8949market/market/shared/inbox"
	"github.com/8949market/market/shared/platform"
	"github.com/8949market/market/shared/products"
	"github.com/8949market/market/shared/registry"
)

const name = "products-reservation-cancelled"

func init() {
	registry.Event(name, events.ReservationCancelled, New)
}

// New builds the consumer.
func New(kit *platform.Kit) registry.EventHandler {
	return inbox.Handle(kit.DB, name, products.OnReservationCancelled)
}
