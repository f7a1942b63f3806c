// Package photoremove is the function products-photo-remove: DELETE
// /api/v1/products/{productId}/photos/{photoId} deletes a photo, for the product's seller
// or an administrator, before the deal's freeze; its files leave the buckets with the
// next photo sweep (products.Photos.RemovePhoto).
package photoremove

import (
	"context"
	"net/http"

	"github.com/8949market/market/shared/endpoint"
	"github.com/8949market/market/shared/fault"
	"github.com/8949market/market/shared/platform"
	"github.com/8949market/market/shared/products"
	"github.com/8949market/market/shared/registry"
)

var spec = endpoint.Spec[endpoint.None, endpoint.None]{
	Summary: "Delete a product photo",
	Description: "Deletes the photo, whatever its state, for the seller or an administrator (403 `P009`), " +
		"while the deal is `PENDING_RESERVATION` and more than a minute before `startTime` (409 `P005`). " +
		"It leaves the product at once; its files are deleted from the buckets within minutes, and " +
		"caches that hold its URL keep it at most a day. A photo that is not the product's is 404 `P013`.",
	PathID: "productId",
	ItemID: "photoId",
	Status: http.StatusNoContent,
	Errors: []*fault.Error{products.ErrNotFound, products.ErrForbidden, products.ErrStateChange, products.ErrPhotoNotFound},
}

func init() {
	registry.HTTP("products-photo-remove", "DELETE /api/v1/products/{productId}/photos/{photoId}", New, spec.Doc())
}

// New builds the handler.
func New(kit *platform.Kit) http.Handler {
	ph := products.NewPhotos(kit.DB, nil, nil, kit.Config.PhotosBase())
	return endpoint.Handle(kit, spec, func(ctx context.Context, r endpoint.Request[endpoint.None]) (endpoint.None, error) {
		return endpoint.None{}, ph.RemovePhoto(ctx, r.ID, r.Item, r.Who)
	})
}
