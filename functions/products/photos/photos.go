// Package photos is the function products-photos: GET /api/v1/products/{productId}/photos
// lists every photo of a product with its state for its seller or an administrator:
// uploading, shown, or rejected with the reason (products.Photos.List). Everyone else
// sees the shown photos on the product itself.
package photos

import (
	"context"
	"net/http"
	"time"

	"github.com/google/uuid"

	"github.com/8949market/market/shared/endpoint"
	"github.com/8949market/market/shared/fault"
	"github.com/8949market/market/shared/platform"
	"github.com/8949market/market/shared/products"
	"github.com/8949market/market/shared/registry"
)

var spec = endpoint.Spec[endpoint.None, []products.PhotoState]{
	Summary: "List a product's photos with their state",
	Description: "For the seller or an administrator (MANAGER or MASTER); anyone else gets 403 `P009` " +
		"(the shown photos are on `GET /api/v1/products/{productId}`). Every photo is listed: `UPLOADING` " +
		"from its upload slot until its file is processed, `READY` when shown (with its URLs and the large " +
		"image's size), `REJECTED` with `rejection.code` and a message saying why: `NOT_AN_IMAGE`, " +
		"`UNSUPPORTED_FORMAT`, `FILE_TOO_LARGE`, `IMAGE_TOO_SMALL`, `IMAGE_TOO_LARGE`, `CORRUPT_IMAGE`, " +
		"`UPLOAD_EXPIRED` (nothing arrived in time), `UPLOAD_MISSING`. Shown and uploading photos come in " +
		"their order (`position`), rejected ones last; a rejected photo is kept 7 days.",
	PathID: "productId",
	Errors: []*fault.Error{products.ErrNotFound, products.ErrForbidden},
	Answer: &[]products.PhotoState{Example(), {
		PhotoID:     uuid.MustParse("0d9b3a57-2c4e-4f18-8a6d-93e1b7c5f402"),
		Status:      products.PhotoRejected,
		ContentType: "image/jpeg",
		Rejection:   &products.Rejection{Code: "NOT_AN_IMAGE", Message: "the file is not a JPEG, PNG or WebP image"},
		CreatedAt:   time.Date(2026, 12, 3, 10, 2, 0, 0, time.UTC),
		ProcessedAt: new(time.Date(2026, 12, 3, 10, 2, 4, 0, time.UTC)),
	}},
}

// Example is a shown photo as its seller sees it, for the reference.
func Example() products.PhotoState {
	base := "https://storage.googleapis.com/market-8949-prod-photos/3f6b2c1d-8e4a-4b7f-9c25-6d1e0a9b8c47/5c2e8f14-7a3b-4d69-9e05-b81f2c6d4a73/"
	return products.PhotoState{
		PhotoID:      uuid.MustParse("5c2e8f14-7a3b-4d69-9e05-b81f2c6d4a73"),
		Status:       products.PhotoReady,
		Position:     new(1),
		ContentType:  "image/jpeg",
		ThumbnailURL: new(base + "thumb.jpg"),
		URL:          new(base + "large.jpg"),
		Width:        new(1600),
		Height:       new(1200),
		CreatedAt:    time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC),
		ProcessedAt:  new(time.Date(2026, 12, 3, 10, 0, 2, 0, time.UTC)),
	}
}

func init() {
	registry.HTTP("products-photos", "GET /api/v1/products/{productId}/photos", New, spec.Doc())
}

// New builds the handler.
func New(kit *platform.Kit) http.Handler {
	ph := products.NewPhotos(kit.DB, nil, nil, kit.Config.PhotosBase())
	return endpoint.Handle(kit, spec, func(ctx context.Context, r endpoint.Request[endpoint.None]) ([]products.PhotoState, error) {
		return ph.List(ctx, r.ID, r.Who)
	})
}
