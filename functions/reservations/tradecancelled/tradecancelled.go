// Package tradecancelled is the function reservations-trade-cancelled: it consumes trade-cancelled and takes the reservation back from a cancelled trade: the next applicant is promoted, or the deal reopens or ends.
package tradecancelled

import (
	"github.com/8949market/market/shared/events"
	"github.com/8949market/market/shared/inbox"
	"github.com/8949market/market/shared/platform"
	"github.com/8949market/market/shared/registry"
	"github.com/8949market/market/shared/reservations"
)

const name = "reservations-trade-cancelled"

func init() {
	registry.Event(name, events.TradeCancelled, New)
}

// New builds the consumer: the admission state is dropped after the commit.
func New(kit *platform.Kit) registry.EventHandler {
	return inbox.Handle(kit.DB, name, reservations.NewLifecycle(kit.DB, kit.Redis, kit.Config.PaymentWindow).TradeCancelled)
}
