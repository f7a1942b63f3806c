// Package productcancelled is the function reservations-product-cancelled: it consumes product-cancelled and ends the reservation of a cancelled or deleted product and releases its queue (reservation-cancelled).
package productcancelled

import (
	"github.com/8949market/market/shared/events"
	"github.com/8949market/market/shared/inbox"
	"github.com/8949market/market/shared/platform"
	"github.com/8949market/market/shared/registry"
	"github.com/8949market/market/shared/reservations"
)

const name = "reservations-product-cancelled"

func init() {
	registry.Event(name, events.ProductCancelled, New)
}

// New builds the consumer: the admission state is dropped after the commit.
func New(kit *platform.Kit) registry.EventHandler {
	return inbox.Handle(kit.DB, name, reservations.NewLifecycle(kit.DB, kit.Redis, kit.Config.PaymentWindow).ProductCancelled)
}
