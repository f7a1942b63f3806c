// Package update is the function products-update: PATCH /api/v1/products/{productId}
// changes a product's name, description or price. Only the seller or an administrator
// may, and only until a minute before the deal opens, so no one can have applied yet
// (products.Store.Edit).
package update

import (
	"context"
	"net/http"

	"github.com/8949market/market/shared/endpoint"
	"github.com/8949market/market/shared/platform"
	"github.com/8949market/market/shared/products"
	"github.com/8949market/market/shared/registry"
)

var spec = endpoint.Spec[products.Change, products.View]{
	PathID: "productId",
}

func init() {
	registry.HTTP("products-update", "PATCH /api/v1/products/{productId}", New, spec.Doc())
}

// New builds the handler.
func New(kit *platform.Kit) http.Handler {
	store := products.NewStore(kit.DB)
	return endpoint.Handle(kit, spec, func(ctx context.Context, r endpoint.Request[products.Change]) (products.View, error) {
		return store.Edit(ctx, r.ID, r.Body, r.Who)
	})
}
