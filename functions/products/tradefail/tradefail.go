// Package tradefail is the function products-reservation-tradefail: it consumes
// reservation-tradefail and records, for administrators to see, that a trade could not be
// opened, and takes the product back from the trade (products.OnReservationTradeFail).
package tradefail

import (
	"github.com/8949market/market/shared/events"
	"github.com/8949market/market/shared/inbox"
	"github.com/8949market/market/shared/platform"
	"github.com/8949market/market/shared/products"
	"github.com/8949market/market/shared/registry"
)

const name = "products-reservation-tradefail"

func init() {
	registry.Event(name, events.ReservationTradeFail, New)
}

// New builds the consumer.
func New(kit *platform.Kit) registry.EventHandler {
	return inbox.Handle(kit.DB, name, products.OnReservationTradeFail)
}
