// Package my is the function products-my: GET /api/v1/products/my lists the caller's own
// products, with the same filters, sorts and cursors as the search (products.Store.Mine).
package my

import (
	"context"
	"net/http"

	"github.com/8949market/market/shared/endpoint"
	"github.com/8949market/market/shared/platform"
	"github.com/8949market/market/shared/products"
	"github.com/8949market/market/shared/registry"
)

var spec = endpoint.Spec[endpoint.None, products.Listing]{}

func init() {
	registry.HTTP("products-my", "GET /api/v1/products/my", New, spec.Doc())
}

// New builds the handler.
func New(kit *platform.Kit) http.Handler {
	store := products.NewStore(kit.DB)
	return endpoint.Handle(kit, spec, func(ctx context.Context, r endpoint.Request[endpoint.None]) (products.Listing, error) {
		return store.Mine(ctx, r.Who.UserID, r.Query)
	})
}
