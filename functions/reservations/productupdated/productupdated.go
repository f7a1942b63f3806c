// Package productupdated is the function reservations-product-updated: it consumes product-updated and copies the product's new information and window into its reservation while nobody has applied.
package productupdated

import (
	"github.com/8949market/market/shared/events"
	"github.com/8949market/market/shared/inbox"
	"github.com/8949market/market/shared/platform"
	"github.com/8949market/market/shared/registry"
	"github.com/8949market/market/shared/reservations"
)

const name = "reservations-product-updated"

func init() {
	registry.Event(name, events.ProductUpdated, New)
}

// New builds the consumer: the admission state is dropped after the commit.
func New(kit *platform.Kit) registry.EventHandler {
	return inbox.Handle(kit.DB, name, reservations.NewLifecycle(kit.DB, kit.Redis, kit.Config.PaymentWindow).ProductUpdated)
}
