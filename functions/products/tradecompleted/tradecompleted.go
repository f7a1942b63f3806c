// Package tradecompleted is the function products-trade-completed: it consumes trade-
// completed and marks the product COMPLETED (sold) (products.OnTradeCompleted).
package tradecompleted

import (
	"github.com/8949market/market/shared/events"
	"github.com/8949market/market/shared/inbox"
	"github.com/8949market/market/shared/platform"
	"github.com/8949market/market/shared/products"
	"github.com/8949market/market/shared/registry"
)

const name = "products-trade-completed"

func init() {
	registry.Event(name, events.TradeCompleted, New)
}

// New builds the consumer.
func New(kit *platform.Kit) registry.EventHandler {
	return inbox.Handle(kit.DB, name, products.OnTradeCompleted)
}
