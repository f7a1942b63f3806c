// Package get is the function products-get: GET /api/v1/products/{productId} shows one
// product with its effective status (products.Store.Show).
package get

import (
	"context"
	"net/http"

	"github.com/8949market/market/shared/endpoint"
	"github.com/8949market/market/shared/platform"
	"github.com/8949market/market/shared/products"
	"github.com/8949market/market/shared/registry"
)

var spec = endpoint.Spec[endpoint.None, products.View]{
	PathID: "productId",
}

func init() {
	registry.HTTP("products-get", "GET /api/v1/products/{productId}", New, spec.Doc())
}

// New builds the handler.
func New(kit *platform.Kit) http.Handler {
	store := products.NewStore(kit.DB)
	return endpoint.Handle(kit, spec, func(ctx context.Context, r endpoint.Request[endpoint.None]) (products.View, error) {
		return store.Show(ctx, r.ID)
	})
}
