// Package productfailed is the function products-product-failed: it consumes product-
// failed and marks a product whose reservation could not be opened FAILED, with the
// reason, for administrators to see (products.OnProductFailed).
package productfailed

import (
	"github.com/8949market/market/shared/events"
	"github.com/8949market/market/shared/inbox"
	"github.com/8949market/market/shared/platform"
	"github.com/8949market/market/shared/products"
	"github.com/8949market/market/shared/registry"
)

const name = "products-product-failed"

func init() {
	registry.Event(name, events.ProductFailed, New)
}

// New builds the consumer.
func New(kit *platform.Kit) registry.EventHandler {
	return inbox.Handle(kit.DB, name, products.OnProductFailed)
}
