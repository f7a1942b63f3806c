// Package photoupload is the function products-photo-upload: POST
// /api/v1/products/{productId}/photos gives the seller (or an administrator) an upload slot
// for a new photo: a signed URL to PUT the file straight into the uploads bucket, so no
// photo's bytes pass through a function (products.Photos.Slot). The upload is processed
// by products-upload-finalized.
package photoupload

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
	"github.com/8949market/market/shared/storage"
)

var spec = endpoint.Spec[products.PhotoRequest, products.UploadSlot]{
	Summary: "Get an upload slot for a product photo",
	Description: "For the seller or an administrator (MANAGER or MASTER); anyone else gets 403 `P009`. " +
		"Like every other change, only while the deal is `PENDING_RESERVATION` and more than a minute " +
		"before `startTime` (409 `P005` otherwise). A product has at most 10 photos, uploads in progress " +
		"included (409 `P014`).\n\n" +
		"`contentType` is `image/jpeg`, `image/png` or `image/webp` (400 `P015`). The answer's `upload` " +
		"says how to send the file: a `PUT` of the bytes to `upload.url` with exactly `upload.headers` " +
		"(the content type and the size range, `x-goog-content-length-range: 1,10485760`), before " +
		"`upload.expiresAt` (15 minutes). The URL is signed for that one object, content type and size " +
		"range: it is good for nothing else. The file goes straight to Cloud Storage.\n\n" +
		"Once uploaded, the file is checked by its bytes (a JPEG, PNG or WebP image, 100 to 10,000 pixels " +
		"a side, at most 50 megapixels), its metadata is removed (camera, GPS position), and a thumbnail " +
		"(400 px) and a large image (1600 px) are made. The photo then shows on the product, in the " +
		"order of its slot (`position`). A file that is not such an image is rejected with a reason: " +
		"`GET /api/v1/products/{productId}/photos` follows each photo.",
	PathID: "productId",
	Status: http.StatusCreated,
	Errors: []*fault.Error{
		products.ErrNotFound, products.ErrForbidden, products.ErrStateChange, products.ErrTooManyPhotos,
		products.ErrPhotoType, fault.ErrUnavailable,
	},
	Example: &products.PhotoRequest{ContentType: "image/jpeg"},
	Answer: &products.UploadSlot{
		PhotoID:  uuid.MustParse("5c2e8f14-7a3b-4d69-9e05-b81f2c6d4a73"),
		Position: 1,
		Upload: storage.SignedUpload{
			URL: "https://storage.googleapis.com/market-8949-prod-uploads/3f6b2c1d-8e4a-4b7f-9c25-6d1e0a9b8c47/" +
				"5c2e8f14-7a3b-4d69-9e05-b81f2c6d4a73?X-Goog-Algorithm=GOOG4-RSA-SHA256&X-Goog-Credential=…&X-Goog-Signature=…",
			Method:    http.MethodPut,
			Headers:   map[string]string{"Content-Type": "image/jpeg", storage.SizeHeader: "1,10485760"},
			ExpiresAt: time.Date(2026, 12, 3, 10, 15, 0, 0, time.UTC),
		},
		MaxBytes: products.MaxUploadBytes,
	},
}

func init() {
	registry.HTTP("products-photo-upload", "POST /api/v1/products/{productId}/photos", New, spec.Doc(),
		registry.UsesBuckets(registry.SignUploads))
}

// New builds the handler.
func New(kit *platform.Kit) http.Handler {
	uploads, photos, err := kit.Buckets()
	if err != nil {
		return endpoint.Unavailable("the file storage is not configured", err)
	}
	ph := products.NewPhotos(kit.DB, uploads, photos, kit.Config.PhotosBase())
	return endpoint.Handle(kit, spec, func(ctx context.Context, r endpoint.Request[products.PhotoRequest]) (products.UploadSlot, error) {
		return ph.Slot(ctx, r.ID, r.Body, r.Who)
	})
}
