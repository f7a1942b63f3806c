// Package cancel is the function products-cancel: PATCH /api/v1/products/{productId}/cancel
// ends a sale before it goes to a trade (product-cancelled closes its reservation and
// releases the queue). Only the seller or an administrator may (products.Store.Cancel).
package cancel

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
	registry.HTTP("products-cancel", "PATCH /api/v1/products/{productId}/cancel", New, spec.Doc())
}

// New builds the handler.
func New(kit *platform.Kit) http.Handler {
	store := products.NewStore(kit.DB)
	return endpoint.Handle(kit, spec, func(ctx context.Context, r endpoint.Request[endpoint.None]) (products.View, error) {
		return store.Cancel(ctx, r.ID, r.Who)
	})
}
