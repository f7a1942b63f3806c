// Package schedule is the function products-schedule:
// PATCH /api/v1/products/{productId}/schedule moves a deal's window. Only the seller or an
// administrator may, and only until a minute before the deal opens.
package schedule

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
	registry.HTTP("products-schedule", "PATCH /api/v1/products/{productId}/schedule", New)
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
		var req products.Schedule
		if err := api.Decode(w, r, kit.Config.MaxBodyBytes, &req); err != nil {
			api.Fail(w, r, err)
			return
		}
		now := time.Now()
		p, err := store.Update(r.Context(), id, func(p *products.Product) error { return p.Reschedule(req, who, now) })
		if err != nil {
			api.Fail(w, r, err)
			return
		}
		api.OK(w, r, p.View(now))
	})
}
