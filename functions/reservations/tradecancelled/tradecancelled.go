// Package tradecancelled is the function reservations-trade-cancelled: it consumes trade-cancelled and takes the reservation back from a cancelled trade: the next applicant is promoted, or the deal reopens or ends.
package tradecancelled

import (
	"context"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/8949market/market/shared/events"
	"github.com/8949market/market/shared/platform"
	"github.com/8949market/market/shared/registry"
	"github.com/8949market/market/shared/reservations"
)

const name = "reservations-trade-cancelled"

func init() {
	registry.Event(name, events.TradeCancelled, New)
}

// New builds the consumer.
func New(kit *platform.Kit) registry.EventHandler {
	lc := reservations.NewLifecycle(kit.DB, reservations.NewQueue(kit.DB, kit.Redis, kit.Config.PaymentWindow))
	return reservations.Follow(lc, name, func(ctx context.Context, tx pgx.Tx, d events.TradeData) (uuid.UUID, error) {
		return lc.TradeCancelled(ctx, tx, d.ReservationID, "trade cancelled: "+d.Reason)
	})
}
