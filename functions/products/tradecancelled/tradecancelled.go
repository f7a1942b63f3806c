// Package tradecancelled is the function products-trade-cancelled: it consumes trade-cancelled and takes the product back from its trade; the reservation's next events say whether another applicant takes it.
package tradecancelled

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

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
	return inbox.Handle(kit.DB, name, func(ctx context.Context, tx pgx.Tx, d events.TradeData) error {
		return products.Follow(ctx, tx, d.ProductID, func(p *products.Product, now time.Time) bool {
			return p.TradeCancelled(now)
		})
	})
}
