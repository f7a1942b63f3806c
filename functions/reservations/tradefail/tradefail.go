// Package tradefail is the function reservations-reservation-tradefail: it consumes reservation-tradefail and takes the reservation back when its trade could not be opened, as a cancelled trade would.
package tradefail

import (
	"github.com/8949market/market/shared/events"
	"github.com/8949market/market/shared/inbox"
	"github.com/8949market/market/shared/platform"
	"github.com/8949market/market/shared/registry"
	"github.com/8949market/market/shared/reservations"
)

const name = "reservations-reservation-tradefail"

func init() {
	registry.Event(name, events.ReservationTradeFail, New)
}

// New builds the consumer: the admission state is dropped after the commit.
func New(kit *platform.Kit) registry.EventHandler {
	return inbox.Handle(kit.DB, name, reservations.NewLifecycle(kit.DB, kit.Redis, kit.Config.PaymentWindow).TradeFailed)
}
