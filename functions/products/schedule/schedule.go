// Package schedule is the function products-schedule:
// PATCH /api/v1/products/{productId}/schedule moves a deal's window. Only the seller or an
// administrator may, and only until a minute before the deal opens
// (products.Store.Reschedule).
package schedule

import (
	"context"
	"net/http"

	"github.com/8949market/market/shared/endpoint"
	"github.com/8949market/market/shared/platform"
	"github.com/8949market/market/shared/products"
	"github.com/8949market/market/shared/registry"
)

var spec = endpoint.Spec[products.Schedule, products.View]{
	PathID: "productId",
}

func init() {
	registry.HTTP("products-schedule", "PATCH /api/v1/products/{productId}/schedule", New, spec.Doc())
}

// New builds the handler.
func New(kit *platform.Kit) http.Handler {
	store := products.NewStore(kit.DB)
	return endpoint.Handle(kit, spec, func(ctx context.Context, r endpoint.Request[products.Schedule]) (products.View, error) {
		return store.Reschedule(ctx, r.ID, r.Body, r.Who)
	})
}
