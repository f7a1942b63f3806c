// Package schedule is the function products-schedule:
// PATCH /api/v1/products/{productId}/schedule moves a deal's window. Only the seller or an
// administrator may, and only until a minute before the deal opens.
package schedule

import (
	"net/http"
	"time"

	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/platform"
	"github.com/8949market/market/shared/products"
	"github.com/8949market/market/shared/registry"
)

func init() {
	registry.HTTP("products-schedule", "PATCH /api/v1/products/{productId}/schedule", New)
}

// New builds the handler.
func New(kit *platform.Kit) http.Handler {
	return products.ChangeHandler(kit, true, func(p *products.Product, req products.Schedule, who auth.Identity, now time.Time) error {
		return p.Reschedule(req, who, now)
	}, products.ViewOf)
}
