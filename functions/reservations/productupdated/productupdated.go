// Package productupdated is the function reservations-product-updated: it consumes product-updated and copies the product's new information and window into its reservation while nobody has applied.
package productupdated

import (
	"context"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/8949market/market/shared/events"
	"github.com/8949market/market/shared/platform"
	"github.com/8949market/market/shared/registry"
	"github.com/8949market/market/shared/reservations"
)

const name = "reservations-product-updated"

func init() {
	registry.Event(name, events.ProductUpdated, New)
}

// New builds the consumer.
func New(kit *platform.Kit) registry.EventHandler {
	lc := reservations.NewLifecycle(kit.DB, reservations.NewQueue(kit.DB, kit.Redis, kit.Config.PaymentWindow))
	return reservations.Follow(lc, name, func(ctx context.Context, tx pgx.Tx, d events.ProductUpdatedData) (uuid.UUID, error) {
		return lc.ProductUpdated(ctx, tx, d)
	})
}
