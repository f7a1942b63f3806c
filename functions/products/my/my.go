// Package my is the function products-my: GET /api/v1/products/my lists the caller's own
// products, with the same filters, sorts and cursors as the search.
package my

import (
	"net/http"
	"time"

	"github.com/8949market/market/shared/api"
	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/page"
	"github.com/8949market/market/shared/platform"
	"github.com/8949market/market/shared/products"
	"github.com/8949market/market/shared/registry"
)

func init() {
	registry.HTTP("products-my", "GET /api/v1/products/my", New)
}

// New builds the handler.
func New(kit *platform.Kit) http.Handler {
	store := products.NewStore(kit.DB)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		who, ok := auth.FromContext(r.Context())
		if !ok {
			api.Fail(w, r, products.ErrUnauthenticated)
			return
		}
		q, err := products.ParseQuery(r.URL.Query())
		if err != nil {
			api.Fail(w, r, err)
			return
		}
		q.SellerID = &who.UserID // whatever sellerId the query named
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
