// Package tradecancelled is the function products-trade-cancelled: it consumes trade-
// cancelled and takes the product back from its trade; the reservation's next events say
// whether another applicant takes it (products.OnTradeCancelled).
package tradecancelled

import (
	"github.com/8949market/market/shared/events"
	"github.com/8949market/market/shared/inbox"
	"github.com/8949market/market/shared/platform"
	"github.com/8949market/market/shared/products"
	"github.com/8949market/market/shared/registry"
)

const name = "products-trade-cancelled"

func init() {
	registry.Event(name, events.TradeCancelled, New)
}

// New builds the consumer.
func New(kit *platform.Kit) registry.EventHandler {
	return inbox.Handle(kit.DB, name, products.OnTradeCancelled)
}
