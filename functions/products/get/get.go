// Package get is the function products-get: GET /api/v1/products/{productId} shows one
// product with its effective status.
package get

import (
	"net/http"
	"time"

	"github.com/google/uuid"

	"github.com/8949market/market/shared/api"
	"github.com/8949market/market/shared/fault"
	"github.com/8949market/market/shared/platform"
	"github.com/8949market/market/shared/products"
	"github.com/8949market/market/shared/registry"
)

func init() {
	registry.HTTP("products-get", "GET /api/v1/products/{productId}", New)
}

// New builds the handler.
func New(kit *platform.Kit) http.Handler {
	store := products.NewStore(kit.DB)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := uuid.Parse(r.PathValue("productId"))
		if err != nil {
			api.Fail(w, r, fault.ErrBadParameter.WithMessage("productId must be a UUID").OnField("productId"))
			return
		}
		p, err := store.Get(r.Context(), id)
		if err != nil {
			api.Fail(w, r, err)
			return
		}
		api.OK(w, r, p.View(time.Now()))
	})
}
