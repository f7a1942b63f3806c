// Package reservationcompleted is the function trades-reservation-completed: it consumes
// reservation-completed and opens the trade, once per reservation however often the
// event comes (trade-created), or answers reservation-tradefail when the reservation
// cannot become a trade.
package reservationcompleted

import (
	"github.com/8949market/market/shared/events"
	"github.com/8949market/market/shared/inbox"
	"github.com/8949market/market/shared/platform"
	"github.com/8949market/market/shared/registry"
	"github.com/8949market/market/shared/trades"
)

const name = "trades-reservation-completed"

func init() {
	registry.Event(name, events.ReservationCompleted, New)
}

// New builds the consumer.
func New(kit *platform.Kit) registry.EventHandler {
	return inbox.Handle(kit.DB, name, trades.Open)
}
