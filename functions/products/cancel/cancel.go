// Package cancel is the function products-cancel: PATCH /api/v1/products/{productId}/cancel
// ends a sale before it goes to a trade (product-cancelled closes its reservation and
// releases the queue). Only the seller or an administrator may.
package cancel

import (
	"net/http"
	"time"

	"github.com/8949market/market/shared/api"
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
	store := products.NewStore(kit.DB)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		who, ok := auth.FromContext(r.Context())
		if !ok {
			api.Fail(w, r, products.ErrUnauthenticated)
			return
		}
		id, err := products.ParseID(r.PathValue("productId"))
		if err != nil {
			api.Fail(w, r, err)
			return
		}
		now := time.Now()
		p, err := store.Update(r.Context(), id, func(p *products.Product) error { return p.Cancel(who, now, false) })
		if err != nil {
			api.Fail(w, r, err)
			return
		}
		api.OK(w, r, p.View(now))
	})
}
