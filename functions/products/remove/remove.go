// Package remove is the function products-delete: DELETE /api/v1/products/{productId}
// removes a listing. A deal not yet in a trade is cancelled with it (product-cancelled);
// an ended one is only hidden; one in a trade or sold cannot be removed. Only the seller
// or an administrator may.
package remove

import (
	"net/http"
	"time"

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
	return products.ChangeHandler(kit, false, func(p *products.Product, _ struct{}, who auth.Identity, now time.Time) error {
		return p.Cancel(who, now, true)
	}, func(p products.Product, _ time.Time) any {
		return answer{ProductID: p.ID.String(), DeletedAt: p.DeletedAt.UTC(), DeletedBy: p.DeletedBy.String()}
	})
}
