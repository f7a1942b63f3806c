// Package search is the function products-search: GET /api/v1/products lists live
// products, filtered and sorted, a page at a time by cursor (products.Store.Browse).
//
// Query: status (effective), sellerId, q (text in name or description), minPrice,
// maxPrice, openNow, startingWithin (e.g. 2h), sort (newest | startTime | price |
// price,desc), size (1-100, default 20), cursor.
package search

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
	registry.HTTP("products-search", "GET /api/v1/products", New, spec.Doc())
}

// New builds the handler.
func New(kit *platform.Kit) http.Handler {
	store := products.NewStore(kit.DB)
	return endpoint.Handle(kit, spec, func(ctx context.Context, r endpoint.Request[endpoint.None]) (products.Listing, error) {
		return store.Browse(ctx, r.Query)
	})
}
