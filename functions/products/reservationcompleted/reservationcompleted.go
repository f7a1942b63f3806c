// Package reservationcompleted is the function products-reservation-completed: it consumes reservation-completed and moves the product to IN_TRADE.
package reservationcompleted

import (
	"time"

	"github.com/google/uuid"

	"github.com/8949market/market/shared/events"
	"github.com/8949market/market/shared/platform"
	"github.com/8949market/market/shared/products"
	"github.com/8949market/market/shared/registry"
)

const name = "products-reservation-completed"

func init() {
	registry.Event(name, events.ReservationCompleted, New)
}

// New builds the consumer.
func New(kit *platform.Kit) registry.EventHandler {
	return products.Follow(kit.DB, name,
		func(d events.ReservationData) uuid.UUID { return d.ProductID },
		func(p *products.Product, d events.ReservationData, now time.Time) bool {
			return p.ReservationCompleted(d.Version, now)
		})
}
