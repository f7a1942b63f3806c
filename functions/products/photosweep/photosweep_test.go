package photosweep_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/devstack/stacktest"
	"github.com/8949market/market/shared/picture/picturetest"
	"github.com/8949market/market/shared/products"
	"github.com/8949market/market/shared/products/producttest"
)

// An upload that never arrives is given up once its URL has expired and the grace has
// passed; the seller sees why, and the slot is free again. A photo uploaded in time is
// left alone.
func TestPhotoSweepExpiresUploads(t *testing.T) {
	t.Parallel()
	st := stacktest.Start(t)
	token, _ := st.Token(t, auth.RoleUser)
	p := producttest.List(t, st, token)
	late := producttest.Slot(t, st, token, p.ProductID, "image/jpeg")
	recent := producttest.Slot(t, st, token, p.ProductID, "image/jpeg")
	producttest.Exec(t, st, `UPDATE products.photos SET upload_expires_at = now() - interval '61 minutes' WHERE id = $1`, late.PhotoID)
	producttest.Exec(t, st, `UPDATE products.photos SET upload_expires_at = now() - interval '59 minutes' WHERE id = $1`, recent.PhotoID)
	producttest.Sweep(t, st)
	states := map[string]products.PhotoState{}
	for _, s := range producttest.Photos(t, st, token, p.ProductID) {
		states[s.PhotoID.String()] = s
	}
	if got := states[late.PhotoID.String()]; got.Status != products.PhotoRejected || got.Rejection == nil || got.Rejection.Code != products.RejectExpired {
		t.Errorf("expired upload: %+v", got)
	}
	if got := states[recent.PhotoID.String()]; got.Status != products.PhotoUploading {
		t.Errorf("upload within the grace: %+v", got)
	}
	// A late file for the given-up slot is not taken.
	if status, _ := producttest.Put(t, late.Upload.URL, late.Upload.Headers, picturetest.JPEG(t, 300, 200)); status == http.StatusOK {
		for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			for _, s := range producttest.Photos(t, st, token, p.ProductID) {
				if s.PhotoID == late.PhotoID && s.Status != products.PhotoRejected {
					t.Fatalf("late upload revived the photo: %+v", s)
				}
			}
		}
	}
}

// A deleted product's photos go: their rows with it, their files with the next sweep.
func TestPhotoSweepRemovesDeletedProducts(t *testing.T) {
	t.Parallel()
	st := stacktest.Start(t)
	token, _ := st.Token(t, auth.RoleUser)
	p := producttest.List(t, st, token)
	slot := producttest.Slot(t, st, token, p.ProductID, "image/jpeg")
	producttest.Upload(t, slot, picturetest.JPEG(t, 640, 480))
	photo := producttest.Processed(t, st, token, p.ProductID, slot.PhotoID)
	if photo.Status != products.PhotoReady {
		t.Fatalf("photo %+v", photo)
	}
	producttest.Remove(t, st, token, p.ProductID)
	var rows int
	if err := st.Kit.DB.QueryRow(context.Background(), `SELECT count(*) FROM products.photos WHERE product_id = $1`, p.ProductID).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if rows != 0 {
		t.Errorf("%d photo rows left with the deleted product", rows)
	}
	producttest.SweptAway(t, st, *photo.URL, *photo.ThumbnailURL)
}
