package photos_test

import (
	"net/http"
	"testing"

	"github.com/google/uuid"

	"github.com/8949market/market/shared/devstack/stacktest"
	"github.com/8949market/market/shared/products"
	"github.com/8949market/market/shared/products/producttest"
)

// listing is GET /api/v1/products/{id}/photos: it changes nothing, and only the seller or
// an administrator reads it (photos uploading and rejected with why are theirs to see).
func listing() producttest.Change {
	return producttest.Change{
		Method: http.MethodGet, Path: producttest.PhotosPath, Malformed: "/api/v1/products/not-a-uuid/photos",
		Request: func() (any, producttest.Made) {
			return nil, func(t testing.TB, res stacktest.Response, _ products.View, _ uuid.UUID) {
				t.Helper()
				var got []products.PhotoState
				if res.Status != http.StatusOK {
					t.Fatalf("photos: status %d: %s", res.Status, res.Body)
				}
				res.Data(t, &got)
				if got == nil || len(got) != 0 {
					t.Errorf("photos of a product without any: %+v, want []", got)
				}
			}
		},
	}
}

func TestPhotosOwnerOrAdmin(t *testing.T) {
	t.Parallel()
	st := stacktest.Start(t)
	producttest.OwnerOrAdmin(t, st, producttest.NewParties(t, st), listing())
}
