// Package remove is the function products-delete: DELETE /api/v1/products/{productId}
// removes a listing. A deal not yet in a trade is cancelled with it (product-cancelled);
// an ended one is only hidden; one in a trade or sold cannot be removed. Only the seller
// or an administrator may (products.Store.Remove).
package remove

import (
	"context"
	"net/http"

	"github.com/8949market/market/shared/endpoint"
	"github.com/8949market/market/shared/platform"
	"github.com/8949market/market/shared/products"
	"github.com/8949market/market/shared/registry"
)

var spec = endpoint.Spec[endpoint.None, products.Removal]{
	PathID: "productId",
}

func init() {
	registry.HTTP("products-delete", "DELETE /api/v1/products/{productId}", New, spec.Doc())
}

// New builds the handler.
func New(kit *platform.Kit) http.Handler {
	store := products.NewStore(kit.DB)
	return endpoint.Handle(kit, spec, func(ctx context.Context, r endpoint.Request[endpoint.None]) (products.Removal, error) {
		return store.Remove(ctx, r.ID, r.Who)
	})
}
