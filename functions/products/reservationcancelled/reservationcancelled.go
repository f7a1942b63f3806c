// Package reservationcancelled is the function products-reservation-cancelled: it consumes reservation-cancelled and drops the buyer: the product is on sale again while its window is open, EXPIRED once it has closed.
package reservationcancelled

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

const name = "products-reservation-cancelled"

func init() {
	registry.Event(name, events.ReservationCancelled, New)
}

// New builds the consumer.
func New(kit *platform.Kit) registry.EventHandler {
	return inbox.Handle(kit.DB, name, func(ctx context.Context, tx pgx.Tx, d events.ReservationData) error {
		return products.Follow(ctx, tx, d.ProductID, func(p *products.Product, now time.Time) bool {
			return p.ReservationCancelled(d.Version, now)
		})
	})
}
