// Package productcancelled is the function reservations-product-cancelled: it consumes product-cancelled and ends the reservation of a cancelled or deleted product and releases its queue (reservation-cancelled).
package productcancelled

import (
	"context"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/8949market/market/shared/events"
	"github.com/8949market/market/shared/platform"
	"github.com/8949market/market/shared/registry"
	"github.com/8949market/market/shared/reservations"
)

const name = "reservations-product-cancelled"

func init() {
	registry.Event(name, events.ProductCancelled, New)
}

// New builds the consumer.
func New(kit *platform.Kit) registry.EventHandler {
	lc := reservations.NewLifecycle(kit.DB, reservations.NewQueue(kit.DB, kit.Redis, kit.Config.PaymentWindow))
	return reservations.Follow(lc, name, func(ctx context.Context, tx pgx.Tx, d events.ProductCancelledData) (uuid.UUID, error) {
		return lc.ProductCancelled(ctx, tx, d)
	})
}
