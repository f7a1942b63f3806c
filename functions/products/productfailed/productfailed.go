// Package productfailed is the function products-product-failed: it consumes product-failed and marks a product whose reservation could not be opened FAILED, with the reason, for administrators to see.
package productfailed

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

const name = "products-product-failed"

func init() {
	registry.Event(name, events.ProductFailed, New)
}

// New builds the consumer.
func New(kit *platform.Kit) registry.EventHandler {
	return inbox.Handle(kit.DB, name, func(ctx context.Context, tx pgx.Tx, d events.ProductFailedData) error {
		return products.Follow(ctx, tx, d.ProductID, func(p *products.Product, now time.Time) bool {
			return p.DealFailed(d.Reason, now)
		})
	})
}
