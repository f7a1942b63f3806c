// Package productfailed is the function products-product-failed: it consumes product-failed and marks a product whose reservation could not be opened FAILED, with the reason, for administrators to see.
package productfailed

import (
	"time"

	"github.com/google/uuid"

	"github.com/8949market/market/shared/events"
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
	return products.Follow(kit.DB, name,
		func(d events.ProductFailedData) uuid.UUID { return d.ProductID },
		func(p *products.Product, d events.ProductFailedData, now time.Time) bool {
			return p.DealFailed(d.Reason, now)
		})
}
