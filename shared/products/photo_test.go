package products_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/fault"
	"github.com/8949market/market/shared/objectevent"
	"github.com/8949market/market/shared/products"
	"github.com/8949market/market/shared/storage"
)

// downBucket is Cloud Storage out of reach: every call fails.
type downBucket struct{}

var errDown = errors.New("storage.googleapis.com: connection refused")

func (downBucket) Name() string { return "uploads" }
func (downBucket) SignUpload(context.Context, string, string, int64, time.Duration) (storage.SignedUpload, error) {
	return storage.SignedUpload{}, errDown
}
func (downBucket) Read(context.Context, string, int64) ([]byte, error)       { return nil, errDown }
func (downBucket) Write(context.Context, string, []byte, storage.Meta) error { return errDown }
func (downBucket) Delete(context.Context, string) error                      { return errDown }

// With the file storage out of reach, a slot is 503 C014 and leaves no photo; a
// notification is retried (503) and leaves the photo uploading; the sweep keeps the
// removals it could not carry out for the next run.
func TestPhotosStorageDown(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	now := time.Now()
	p := baseProduct(now, products.PendingReservation)
	f.insert(t, p)
	seller := auth.Identity{UserID: p.SellerID, Role: auth.RoleUser}
	ph := products.NewPhotos(f.db, downBucket{}, downBucket{}, "https://photos.example")
	ctx := context.Background()

	_, err := ph.Slot(ctx, p.ID, products.PhotoRequest{ContentType: "image/jpeg"}, seller)
	var fe *fault.Error
	if !errors.As(err, &fe) || fe.Kind != fault.Unavailable || fe.Code != "C014" {
		t.Fatalf("slot with storage down: %v, want 503 C014", err)
	}
	var n int
	if err := f.db.QueryRow(ctx, `SELECT count(*) FROM products.photos WHERE product_id = $1`, p.ID).Scan(&n); err != nil || n != 0 {
		t.Fatalf("%d photo rows (%v) after a refused slot", n, err)
	}

	photo := uuid.New()
	if _, err := f.db.Exec(ctx, `
		INSERT INTO products.photos (id, product_id, position, status, content_type, upload_object, upload_expires_at, created_at, created_by)
		VALUES ($1, $2, 1, 'UPLOADING', 'image/jpeg', $3, now() + interval '15 minutes', now(), $4)`,
		photo, p.ID, p.ID.String()+"/"+photo.String(), p.SellerID); err != nil {
		t.Fatal(err)
	}
	tx, err := f.db.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	err = ph.OnUploadFinalized(ctx, tx, objectevent.Object{Bucket: "uploads", Name: p.ID.String() + "/" + photo.String(), Generation: "1"})
	_ = tx.Rollback(ctx)
	if !errors.As(err, &fe) || fe.Code != "C014" {
		t.Errorf("notice with storage down: %v, want C014 (retried)", err)
	}

	if _, err := f.store.Remove(ctx, p.ID, seller); err != nil {
		t.Fatal(err)
	}
	res, err := ph.Sweep(ctx, time.Now(), 100)
	if err != nil || res.Removed != 0 || res.Failed != 3 {
		t.Errorf("sweep with storage down: %+v %v, want 3 failed", res, err)
	}
	if err := f.db.QueryRow(ctx, `SELECT count(*) FROM products.photo_removals WHERE attempts = 1 AND due_at > now()`).Scan(&n); err != nil || n != 3 {
		t.Errorf("%d removals kept for later (%v), want 3", n, err)
	}
}
