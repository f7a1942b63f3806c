// Package search is the function products-search: GET /api/v1/products lists live
// products, filtered and sorted, a page at a time by cursor.
//
// Query: status (effective), sellerId, q (text in name or description), minPrice,
// maxPrice, openNow, startingWithin (e.g. 2h), sort (newest | startTime | price |
// price,desc), size (1-100, default 20), cursor.
package search

import (
	"net/http"
	"time"

	"github.com/8949market/market/shared/api"
	"github.com/8949market/market/shared/page"
	"github.com/8949market/market/shared/platform"
	"github.com/8949market/market/shared/products"
	"github.com/8949market/market/shared/registry"
)

func init() {
	registry.HTTP("products-search", "GET /api/v1/products", New)
}

// New builds the handler.
func New(kit *platform.Kit) http.Handler {
	store := products.NewStore(kit.DB)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q, err := products.ParseQuery(r.URL.Query())
		if err != nil {
			api.Fail(w, r, err)
			return
		}
		size, err := page.Size(r, 20, 100)
		if err != nil {
			api.Fail(w, r, err)
			return
		}
		p, err := store.Search(r.Context(), q, time.Now(), size, r.URL.Query().Get("cursor"))
		if err != nil {
			api.Fail(w, r, err)
			return
		}
		api.OK(w, r, p)
	})
}
