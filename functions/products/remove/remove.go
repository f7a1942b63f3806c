// Package remove is the function products-delete: DELETE /api/v1/products/{productId}
// removes a listing. A deal not yet in a trade is cancelled with it (product-cancelled);
// an ended one is only hidden; one in a trade or sold cannot be removed. Only the seller
// or an administrator may.
package remove

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
	registry.HTTP("products-delete", "DELETE /api/v1/products/{productId}", New)
}

type answer struct {
	ProductID string    `json:"productId"`
	DeletedAt time.Time `json:"deletedAt"`
	DeletedBy string    `json:"deletedBy"`
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
		p, err := store.Update(r.Context(), id, func(p *products.Product) error { return p.Cancel(who, now, true) })
		if err != nil {
			api.Fail(w, r, err)
			return
		}
		api.OK(w, r, answer{ProductID: p.ID.String(), DeletedAt: p.DeletedAt.UTC(), DeletedBy: p.DeletedBy.String()})
	})
}
