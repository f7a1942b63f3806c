// Package cancel is the function products-cancel: PATCH /api/v1/products/{productId}/cancel
// ends a sale before it goes to a trade (product-cancelled closes its reservation and
// releases the queue). Only the seller or an administrator may.
package cancel

import (
	"net/http"
	"time"

	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/platform"
	"github.com/8949market/market/shared/products"
	"github.com/8949market/market/shared/registry"
)

func init() {
	registry.HTTP("products-cancel", "PATCH /api/v1/products/{productId}/cancel", New)
}

// New builds the handler.
func New(kit *platform.Kit) http.Handler {
	return products.ChangeHandler(kit, false, func(p *products.Product, _ struct{}, who auth.Identity, now time.Time) error {
		return p.Cancel(who, now, false)
	}, products.ViewOf)
}
