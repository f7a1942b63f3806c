// Package create is the function products-create: POST /api/v1/products lists a product
// as a time deal sold by the caller.
package create

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
	registry.HTTP("products-create", "POST /api/v1/products", New)
}

type request struct {
	Name        *string    `json:"name"`
	Description *string    `json:"description"`
	Price       *int64     `json:"price"`
	StartTime   *time.Time `json:"startTime"`
	EndTime     *time.Time `json:"endTime"`
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
		var req request
		if err := api.Decode(w, r, kit.Config.MaxBodyBytes, &req); err != nil {
			api.Fail(w, r, err)
			return
		}
		now := time.Now()
		p, err := products.New(products.Draft{
			Name:        req.Name,
			Description: req.Description,
			Price:       req.Price,
			StartTime:   req.StartTime,
			EndTime:     req.EndTime,
		}, who.UserID, who.Nickname, now)
		if err != nil {
			api.Fail(w, r, err)
			return
		}
		if err := store.Create(r.Context(), p); err != nil {
			api.Fail(w, r, err)
			return
		}
		api.Created(w, r, p.View(now))
	})
}
