// Package update is the function products-update: PATCH /api/v1/products/{productId}
// changes a product's name, description or price. Only the seller or an administrator
// may, and only until a minute before the deal opens (no one can have applied yet).
package update

import (
	"net/http"
	"time"

	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/platform"
	"github.com/8949market/market/shared/products"
	"github.com/8949market/market/shared/registry"
)

func init() {
	registry.HTTP("products-update", "PATCH /api/v1/products/{productId}", New)
}

// New builds the handler.
func New(kit *platform.Kit) http.Handler {
	return products.ChangeHandler(kit, true, func(p *products.Product, req products.Change, who auth.Identity, now time.Time) error {
		return p.Update(req, who, now)
	}, products.ViewOf)
}
