// Package create is the function products-create: POST /api/v1/products lists a product
// as a time deal sold by the caller (products.Store.Add).
package create

import (
	"context"
	"net/http"

	"github.com/8949market/market/shared/endpoint"
	"github.com/8949market/market/shared/platform"
	"github.com/8949market/market/shared/products"
	"github.com/8949market/market/shared/registry"
)

var spec = endpoint.Spec[products.Draft, products.View]{
	Status: http.StatusCreated,
}

func init() {
	registry.HTTP("products-create", "POST /api/v1/products", New, spec.Doc())
}

// New builds the handler.
func New(kit *platform.Kit) http.Handler {
	store := products.NewStore(kit.DB)
	return endpoint.Handle(kit, spec, func(ctx context.Context, r endpoint.Request[products.Draft]) (products.View, error) {
		return store.Add(ctx, r.Body, r.Who)
	})
}
