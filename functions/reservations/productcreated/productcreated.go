// Package productcreated is the function reservations-product-created: it consumes
// product-created and opens the product's reservation, once per product however often the
// event is delivered.
package productcreated

import (
	"github.com/8949market/market/shared/events"
	"github.com/8949market/market/shared/inbox"
	"github.com/8949market/market/shared/platform"
	"github.com/8949market/market/shared/registry"
	"github.com/8949market/market/shared/reservations"
)

const name = "reservations-product-created"

func init() {
	registry.Event(name, events.ProductCreated, New)
}

// New builds the consumer.
func New(kit *platform.Kit) registry.EventHandler {
	return inbox.Handle(kit.DB, name, reservations.OpenForProduct)
}
