// Package tradecompleted is the function reservations-trade-completed: it consumes trade-completed and closes the reservation of a completed trade.
package tradecompleted

import (
	"github.com/8949market/market/shared/events"
	"github.com/8949market/market/shared/inbox"
	"github.com/8949market/market/shared/platform"
	"github.com/8949market/market/shared/registry"
	"github.com/8949market/market/shared/reservations"
)

const name = "reservations-trade-completed"

func init() {
	registry.Event(name, events.TradeCompleted, New)
}

// New builds the consumer: the admission state is dropped after the commit.
func New(kit *platform.Kit) registry.EventHandler {
	return inbox.Handle(kit.DB, name, reservations.NewLifecycle(kit.DB, kit.Redis, kit.Config.PaymentWindow).TradeCompleted)
}
