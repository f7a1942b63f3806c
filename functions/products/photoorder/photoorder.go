// Package photoorder is the function products-photo-order: PATCH
// /api/v1/products/{productId}/photos puts a product's photos in a new order, for its
// seller or an administrator, before the deal's freeze (products.Photos.Reorder).
package photoorder

import (
	"context"
	"net/http"

	"github.com/google/uuid"

	"github.com/8949market/market/functions/products/photos"
	"github.com/8949market/market/shared/endpoint"
	"github.com/8949market/market/shared/fault"
	"github.com/8949market/market/shared/platform"
	"github.com/8949market/market/shared/products"
	"github.com/8949market/market/shared/registry"
)

var spec = endpoint.Spec[products.PhotoOrder, []products.PhotoState]{
	Summary: "Reorder a product's photos",
	Description: "`order` names every photo of the product that is not rejected (uploading ones too), " +
		"once each, first shown first (400 `P016` otherwise); the first is the thumbnail of search " +
		"results. For the seller or an administrator (403 `P009`), while the deal is `PENDING_RESERVATION` " +
		"and more than a minute before `startTime` (409 `P005`). The answer lists the photos as " +
		"`GET /api/v1/products/{productId}/photos` does.",
	PathID: "productId",
	Errors: []*fault.Error{products.ErrNotFound, products.ErrForbidden, products.ErrStateChange, products.ErrPhotoOrder},
	Example: &products.PhotoOrder{Order: []uuid.UUID{
		uuid.MustParse("5c2e8f14-7a3b-4d69-9e05-b81f2c6d4a73"), uuid.MustParse("e7a41c09-3b5d-4f2e-8c61-2d9f0b4a7e18"),
	}},
	Answer: &[]products.PhotoState{photos.Example()},
}

func init() {
	registry.HTTP("products-photo-order", "PATCH /api/v1/products/{productId}/photos", New, spec.Doc())
}

// New builds the handler.
func New(kit *platform.Kit) http.Handler {
	ph := products.NewPhotos(kit.DB, nil, nil, kit.Config.PhotosBase())
	return endpoint.Handle(kit, spec, func(ctx context.Context, r endpoint.Request[products.PhotoOrder]) ([]products.PhotoState, error) {
		return ph.Reorder(ctx, r.ID, r.Body, r.Who)
	})
}
