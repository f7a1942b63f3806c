package products

import (
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/8949market/market/shared/fault"
	"github.com/8949market/market/shared/storage"
)

// The photo rules. A product shows at most MaxPhotos photos; photos being uploaded count,
// so a seller cannot hold more slots than that. An upload URL lives UploadTTL; an upload
// that has not become a photo UploadGrace after that (its processing retried the while)
// is given up by products-photo-sweep, and a rejected photo is kept RejectedKept for the
// seller to see why.
const (
	MaxPhotos      = 10
	MaxUploadBytes = 10 << 20 // the original file service's limit per file
	UploadTTL      = 15 * time.Minute
	UploadGrace    = time.Hour
	RejectedKept   = 7 * 24 * time.Hour
	// PhotoCache is how the display images are served: their names are new for every
	// photo, so they never change and may be cached anywhere; a day, not a year, so a
	// deleted photo leaves the caches soon after it leaves the bucket.
	PhotoCache = "public, max-age=86400, immutable"
)

// UploadTypes are the content types an upload slot is given for. The declared type only
// names the upload: the bytes decide whether it is an image (shared/picture).
var UploadTypes = []string{"image/jpeg", "image/png", "image/webp"}

// The photo errors.
var (
	ErrPhotoNotFound = fault.New(fault.NotFound, "P013", "photo not found")
	ErrTooManyPhotos = fault.New(fault.Conflict, "P014", "a product has at most 10 photos")
	ErrPhotoType     = fault.New(fault.Invalid, "P015", "contentType must be image/jpeg, image/png or image/webp").OnField("contentType")
	ErrPhotoOrder    = fault.New(fault.Invalid, "P016", "order must name every photo of the product that is not rejected, once each").OnField("order")
	// ErrPhotosLocked is the freeze rule of every other change (Product.editable).
	ErrPhotosLocked = ErrStateChange.WithMessage("the deal opens within a minute or has opened; its photos can no longer be changed")
)

// PhotoStatus is where a photo is in its life.
type PhotoStatus string

// The photo statuses.
const (
	PhotoUploading PhotoStatus = "UPLOADING" // a slot was given out; the upload has not been processed
	PhotoReady     PhotoStatus = "READY"     // processed: shown on the product
	PhotoRejected  PhotoStatus = "REJECTED"  // not an image the platform shows, or never uploaded
)

// Why an upload was given up without a file to judge (shared/picture's reasons name the
// rest).
const (
	RejectExpired = "UPLOAD_EXPIRED" // nothing arrived before the URL expired
	RejectMissing = "UPLOAD_MISSING" // the upload was gone when its notification came
)

// Photo is a shown photo: the thumbnail for lists, the large image for the product page.
type Photo struct {
	PhotoID      uuid.UUID `json:"photoId"`
	ThumbnailURL string    `json:"thumbnailUrl"`
	URL          string    `json:"url"`
	// Width and Height are the large image's, in pixels.
	Width  int `json:"width"`
	Height int `json:"height"`
}

// PhotoState is a photo as its seller sees it: uploading, shown, or rejected with why.
type PhotoState struct {
	PhotoID      uuid.UUID   `json:"photoId"`
	Status       PhotoStatus `json:"status"`
	Position     *int        `json:"position"`
	ContentType  string      `json:"contentType"`
	ThumbnailURL *string     `json:"thumbnailUrl"`
	URL          *string     `json:"url"`
	Width        *int        `json:"width"`
	Height       *int        `json:"height"`
	Rejection    *Rejection  `json:"rejection"`
	CreatedAt    time.Time   `json:"createdAt"`
	ProcessedAt  *time.Time  `json:"processedAt"`
}

// Rejection says why a photo is not shown.
type Rejection struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// PhotoRequest asks for an upload slot.
type PhotoRequest struct {
	ContentType string `json:"contentType"`
}

// UploadSlot is where the client puts the file: a PUT to upload.url with upload.headers,
// exactly, before upload.expiresAt, of at most maxBytes. The photo shows on the product
// once processed (GET /api/v1/products/{productId}/photos follows it).
type UploadSlot struct {
	PhotoID  uuid.UUID            `json:"photoId"`
	Position int                  `json:"position"`
	Upload   storage.SignedUpload `json:"upload"`
	MaxBytes int64                `json:"maxBytes"`
}

// PhotoOrder is a new order of a product's photos.
type PhotoOrder struct {
	Order []uuid.UUID `json:"order"`
}

// checkUploadType is the slot request's rule.
func checkUploadType(ct string) error {
	if !slices.Contains(UploadTypes, ct) {
		return ErrPhotoType
	}
	return nil
}

// checkOrder says whether order names each of ids once and nothing else.
func checkOrder(order, ids []uuid.UUID) error {
	if len(order) != len(ids) {
		return ErrPhotoOrder
	}
	seen := make(map[uuid.UUID]bool, len(order))
	for _, id := range order {
		if seen[id] || !slices.Contains(ids, id) {
			return ErrPhotoOrder
		}
		seen[id] = true
	}
	return nil
}

// The objects of a photo: the upload in the uploads bucket, the display images in the
// photos bucket, all under the product's id so a product's objects share a prefix.
func uploadObject(product, photo uuid.UUID) string { return product.String() + "/" + photo.String() }

func displayObject(product, photo uuid.UUID, size string) string {
	return product.String() + "/" + photo.String() + "/" + size + ".jpg"
}
