// Package tradecompleted is the function reservations-trade-completed: it consumes trade-completed and closes the reservation of a completed trade.
package tradecompleted

import (
	"context"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/8949market/market/shared/events"
	"github.com/8949market/market/shared/platform"
	"github.com/8949market/market/shared/registry"
	"github.com/8949market/market/shared/reservations"
)

const name = "reservations-trade-completed"

func init() {
	registry.Event(name, events.TradeCompleted, New)
}

// New builds the consumer.
func New(kit *platform.Kit) registry.EventHandler {
	lc := reservations.NewLifecycle(kit.DB, reservations.NewQueue(kit.DB, kit.Redis, kit.Config.PaymentWindow))
	return reservations.Follow(lc, name, func(ctx context.Context, tx pgx.Tx, d events.TradeData) (uuid.UUID, error) {
		return lc.TradeCompleted(ctx, tx, d)
	})
}
