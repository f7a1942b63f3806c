// Package tradefail is the function reservations-reservation-tradefail: it consumes reservation-tradefail and takes the reservation back when its trade could not be opened, as a cancelled trade would.
package tradefail

import (
	"context"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/8949market/market/shared/events"
	"github.com/8949market/market/shared/platform"
	"github.com/8949market/market/shared/registry"
	"github.com/8949market/market/shared/reservations"
)

const name = "reservations-reservation-tradefail"

func init() {
	registry.Event(name, events.ReservationTradeFail, New)
}

// New builds the consumer.
func New(kit *platform.Kit) registry.EventHandler {
	lc := reservations.NewLifecycle(kit.DB, reservations.NewQueue(kit.DB, kit.Redis, kit.Config.PaymentWindow))
	return reservations.Follow(lc, name, func(ctx context.Context, tx pgx.Tx, d events.ReservationTradeFailData) (uuid.UUID, error) {
		return lc.TradeCancelled(ctx, tx, d.ReservationID, "trade could not be opened: "+d.Reason)
	})
}
