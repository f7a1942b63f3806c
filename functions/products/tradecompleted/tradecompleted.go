// Package tradecompleted is the function products-trade-completed: it consumes trade-completed and marks the product COMPLETED (sold).
package tradecompleted

import (
	"time"

	"github.com/google/uuid"

	"github.com/8949market/market/shared/events"
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
	return products.Follow(kit.DB, name,
		func(d events.TradeData) uuid.UUID { return d.ProductID },
		func(p *products.Product, d events.TradeData, now time.Time) bool { return p.TradeCompleted(now) })
}
