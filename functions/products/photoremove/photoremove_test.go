package photoremove_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/devstack/stacktest"
	"github.com/8949market/market/shared/picture/picturetest"
	"github.com/8949market/market/shared/products"
	"github.com/8949market/market/shared/products/producttest"
)

func photoPath(product, photo uuid.UUID) string {
	return producttest.PhotosPath(product) + "/" + photo.String()
}

// shown uploads a photo to a new product of token's and waits until it shows.
func shown(t *testing.T, st *stacktest.Stack, token string) (products.View, products.PhotoState) {
	t.Helper()
	p := producttest.List(t, st, token)
	slot := producttest.Slot(t, st, token, p.ProductID, "image/jpeg")
	producttest.Upload(t, slot, picturetest.JPEG(t, 640, 480))
	photo := producttest.Processed(t, st, token, p.ProductID, slot.PhotoID)
	if photo.Status != products.PhotoReady {
		t.Fatalf("photo %+v", photo)
	}
	return p, photo
}

// Only the seller or an administrator deletes a photo, before the freeze; it leaves the
// product at once and its files leave the bucket with the next sweep.
func TestPhotoRemove(t *testing.T) {
	t.Parallel()
	st := stacktest.Start(t)
	who := producttest.NewParties(t, st)
	manager, _ := st.Token(t, auth.RoleManager)
	for _, tt := range []struct {
		name   string
		token  string
		path   func(p products.View, photo products.PhotoState) string
		setup  producttest.Setup
		status int
		code   string
	}{
		{name: "seller", token: who.SellerToken, status: 204},
		{name: "manager", token: manager, status: 204},
		{name: "another user", token: who.OtherToken, status: 403, code: "P009"},
		{name: "no token", status: 401, code: "C002"},
		{name: "unknown photo", token: who.SellerToken, status: 404, code: "P013",
			path: func(p products.View, _ products.PhotoState) string { return photoPath(p.ProductID, uuid.New()) }},
		{name: "another product's photo", token: who.SellerToken, status: 404, code: "P013",
			path: func(_ products.View, photo products.PhotoState) string {
				return photoPath(producttest.List(t, st, who.SellerToken).ProductID, photo.PhotoID)
			}},
		{name: "malformed photo id", token: who.SellerToken, status: 400, code: "C015",
			path: func(p products.View, _ products.PhotoState) string {
				return producttest.PhotosPath(p.ProductID) + "/nope"
			}},
		{name: "deal opening within the minute", token: who.SellerToken, setup: producttest.Window(30*time.Second, time.Hour), status: 409, code: "P005"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, photo := shown(t, st, who.SellerToken)
			if tt.setup != nil {
				tt.setup(t, st, p.ProductID, time.Now())
			}
			path := photoPath(p.ProductID, photo.PhotoID)
			if tt.path != nil {
				path = tt.path(p, photo)
			}
			res := st.Do(t, http.MethodDelete, path, nil, tt.token)
			left := producttest.Get(t, st, who.SellerToken, p.ProductID).Photos
			if tt.status != http.StatusNoContent {
				res.RefusedOn(t, tt.status, tt.code, "")
				if len(left) != 1 {
					t.Errorf("refused delete left %d photos", len(left))
				}
				return
			}
			if res.Status != http.StatusNoContent {
				t.Fatalf("delete: %d %s", res.Status, res.Body)
			}
			if len(left) != 0 || len(producttest.Photos(t, st, who.SellerToken, p.ProductID)) != 0 {
				t.Fatalf("deleted photo still listed")
			}
			if got := producttest.Fetch(t, *photo.URL, nil).Status; got != http.StatusOK {
				t.Errorf("before the sweep, GET large: %d", got)
			}
			producttest.SweptAway(t, st, *photo.URL, *photo.ThumbnailURL)
		})
	}
}
