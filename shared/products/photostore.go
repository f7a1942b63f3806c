package products

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/fault"
	"github.com/8949market/market/shared/inbox"
	"github.com/8949market/market/shared/objectevent"
	"github.com/8949market/market/shared/picture"
	"github.com/8949market/market/shared/postgres"
	"github.com/8949market/market/shared/storage"
)

// The buckets a removal names: by role, so renaming a bucket strands no row.
const (
	uploadsRole = "uploads"
	photosRole  = "photos"
)

// Photos keeps products' photos: their rows here, their bytes in the uploads and photos
// buckets (shared/storage), their public URLs under base.
type Photos struct {
	db      *pgxpool.Pool
	uploads storage.Bucket
	photos  storage.Bucket
	base    string
}

// NewPhotos returns the photos of db's products, kept in uploads and photos and served
// from base (config.PhotosBase). Functions that only read or reorder rows may pass nil
// buckets.
func NewPhotos(db *pgxpool.Pool, uploads, photos storage.Bucket, base string) *Photos {
	return &Photos{db: db, uploads: uploads, photos: photos, base: strings.TrimSuffix(base, "/")}
}

type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// shownPhotos is product's READY photos in order.
func shownPhotos(ctx context.Context, q querier, product uuid.UUID) ([]Photo, error) {
	rows, err := q.Query(ctx, `
		SELECT id, thumb_url, large_url, width, height FROM products.photos
		 WHERE product_id = $1 AND status = 'READY' ORDER BY position`, product)
	if err != nil {
		return nil, fmt.Errorf("photos of %s: %w", product, err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Photo, error) {
		var p Photo
		err := row.Scan(&p.PhotoID, &p.ThumbnailURL, &p.URL, &p.Width, &p.Height)
		return p, err
	})
	if err != nil {
		return nil, fmt.Errorf("photos of %s: %w", product, err)
	}
	if out == nil {
		out = []Photo{}
	}
	return out, nil
}

const photoColumns = `id, status, position, content_type, thumb_url, large_url, width, height,
	reject_code, reject_reason, created_at, processed_at`

func photoStates(ctx context.Context, q querier, product uuid.UUID) ([]PhotoState, error) {
	rows, err := q.Query(ctx, `
		SELECT `+photoColumns+` FROM products.photos
		 WHERE product_id = $1 ORDER BY position NULLS LAST, created_at, id`, product)
	if err != nil {
		return nil, fmt.Errorf("photos of %s: %w", product, err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (PhotoState, error) {
		var (
			s            PhotoState
			code, reason *string
		)
		err := row.Scan(&s.PhotoID, &s.Status, &s.Position, &s.ContentType, &s.ThumbnailURL, &s.URL, &s.Width, &s.Height,
			&code, &reason, &s.CreatedAt, &s.ProcessedAt)
		if code != nil {
			s.Rejection = &Rejection{Code: *code, Message: deref(reason)}
		}
		s.CreatedAt = s.CreatedAt.UTC()
		s.ProcessedAt = utc(s.ProcessedAt)
		return s, err
	})
	if err != nil {
		return nil, fmt.Errorf("photos of %s: %w", product, err)
	}
	if out == nil {
		out = []PhotoState{}
	}
	return out, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// ownPhotos locks live product id for who's photo change: the seller or an
// administrator, before the freeze (the rule of every other change).
func ownPhotos(ctx context.Context, tx pgx.Tx, id uuid.UUID, who auth.Identity, now time.Time) error {
	_, err := UpdateTx(ctx, tx, id, func(p *Product) (bool, error) {
		if err := p.mayChange(who); err != nil {
			return false, err
		}
		return false, p.editable(now, ErrPhotosLocked)
	})
	return err
}

// List is every photo of product id with its state, for its seller or an administrator.
func (ph *Photos) List(ctx context.Context, id uuid.UUID, who auth.Identity) ([]PhotoState, error) {
	var out []PhotoState
	err := pgx.BeginFunc(ctx, ph.db, func(tx pgx.Tx) error {
		var seller uuid.UUID
		err := tx.QueryRow(ctx, `SELECT seller_id FROM products.products WHERE id = $1 AND deleted_at IS NULL`, id).Scan(&seller)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("get product %s: %w", id, err)
		}
		if !who.Owns(seller) && !who.IsAdmin() {
			return ErrForbidden
		}
		out, err = photoStates(ctx, tx, id)
		return err
	})
	return out, err
}

// Slot gives who an upload slot for a new photo of product id (the seller or an
// administrator, before the freeze, within MaxPhotos): the photo's row, UPLOADING, last
// in the order, and a URL that lets the client PUT that one object, of that content type
// and at most MaxUploadBytes, for UploadTTL.
func (ph *Photos) Slot(ctx context.Context, id uuid.UUID, req PhotoRequest, who auth.Identity) (UploadSlot, error) {
	if err := checkUploadType(req.ContentType); err != nil {
		return UploadSlot{}, err
	}
	now := time.Now()
	photo := uuid.New()
	object := uploadObject(id, photo)
	var slot UploadSlot
	err := pgx.BeginFunc(ctx, ph.db, func(tx pgx.Tx) error {
		if err := ownPhotos(ctx, tx, id, who, now); err != nil {
			return err
		}
		var count, last int
		if err := tx.QueryRow(ctx, `
			SELECT count(*), coalesce(max(position), 0) FROM products.photos
			 WHERE product_id = $1 AND status <> 'REJECTED'`, id).Scan(&count, &last); err != nil {
			return fmt.Errorf("count photos of %s: %w", id, err)
		}
		if count >= MaxPhotos {
			return ErrTooManyPhotos
		}
		// Signed under the product's lock, before the row: a URL whose row did not commit
		// names an object nobody will take (the consumer deletes it).
		upload, err := ph.uploads.SignUpload(ctx, object, req.ContentType, MaxUploadBytes, UploadTTL)
		if err != nil {
			// Cloud Storage's signer (IAM Credentials) out of reach: try again, 503.
			return fault.ErrUnavailable.WithMessage("the file storage cannot sign an upload now").Wrap(fmt.Errorf("sign upload: %w", err))
		}
		slot = UploadSlot{PhotoID: photo, Position: last + 1, Upload: upload, MaxBytes: MaxUploadBytes}
		_, err = tx.Exec(ctx, `
			INSERT INTO products.photos
			  (id, product_id, position, status, content_type, upload_object, upload_expires_at, created_at, created_by)
			VALUES ($1, $2, $3, 'UPLOADING', $4, $5, $6, $7, $8)`,
			photo, id, slot.Position, req.ContentType, object, upload.ExpiresAt, postgres.Time(now), who.UserID)
		if err != nil {
			return fmt.Errorf("insert photo: %w", err)
		}
		return nil
	})
	if err != nil {
		return UploadSlot{}, err
	}
	return slot, nil
}

// Reorder puts product id's photos in order, on who's request: order names every photo
// not rejected (uploading ones too), once each.
func (ph *Photos) Reorder(ctx context.Context, id uuid.UUID, order PhotoOrder, who auth.Identity) ([]PhotoState, error) {
	now := time.Now()
	var out []PhotoState
	err := pgx.BeginFunc(ctx, ph.db, func(tx pgx.Tx) error {
		if err := ownPhotos(ctx, tx, id, who, now); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT id FROM products.photos WHERE product_id = $1 AND status <> 'REJECTED' FOR UPDATE`, id)
		if err != nil {
			return fmt.Errorf("photos of %s: %w", id, err)
		}
		ids, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
		if err != nil {
			return fmt.Errorf("photos of %s: %w", id, err)
		}
		if err := checkOrder(order.Order, ids); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `
			UPDATE products.photos p SET position = o.n
			  FROM unnest($2::uuid[]) WITH ORDINALITY AS o(id, n)
			 WHERE p.product_id = $1 AND p.id = o.id`, id, order.Order); err != nil {
			return fmt.Errorf("reorder photos of %s: %w", id, err)
		}
		out, err = photoStates(ctx, tx, id)
		return err
	})
	return out, err
}

// RemovePhoto deletes photo of product id on who's request; its objects go with the
// next sweep.
func (ph *Photos) RemovePhoto(ctx context.Context, id, photo uuid.UUID, who auth.Identity) error {
	now := time.Now()
	return pgx.BeginFunc(ctx, ph.db, func(tx pgx.Tx) error {
		if err := ownPhotos(ctx, tx, id, who, now); err != nil {
			return err
		}
		n, err := dropPhotos(ctx, tx, `product_id = $1 AND id = $2`, id, photo)
		if err != nil {
			return err
		}
		if n == 0 {
			return ErrPhotoNotFound
		}
		return nil
	})
}

// dropPhotos deletes the photo rows where says, recording their objects for removal, in
// tx.
func dropPhotos(ctx context.Context, tx pgx.Tx, where string, args ...any) (int, error) {
	rows, err := tx.Query(ctx, `DELETE FROM products.photos WHERE `+where+` RETURNING product_id, id, upload_object`, args...)
	if err != nil {
		return 0, fmt.Errorf("delete photos: %w", err)
	}
	type gone struct {
		product, photo uuid.UUID
		upload         string
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (gone, error) {
		var g gone
		err := row.Scan(&g.product, &g.photo, &g.upload)
		return g, err
	})
	if err != nil {
		return 0, fmt.Errorf("delete photos: %w", err)
	}
	for _, g := range list {
		objects := []string{g.upload}
		roles := []string{uploadsRole}
		for _, s := range picture.DisplaySizes {
			objects = append(objects, displayObject(g.product, g.photo, s.Name))
			roles = append(roles, photosRole)
		}
		if err := scheduleRemoval(ctx, tx, roles, objects); err != nil {
			return 0, err
		}
	}
	return len(list), nil
}

func scheduleRemoval(ctx context.Context, tx pgx.Tx, roles, objects []string) error {
	_, err := tx.Exec(ctx, `
		INSERT INTO products.photo_removals (bucket, object)
		SELECT * FROM unnest($1::text[], $2::text[]) ON CONFLICT DO NOTHING`, roles, objects)
	if err != nil {
		return fmt.Errorf("schedule object removal: %w", err)
	}
	return nil
}

// OnUploadFinalized is the consumer of upload-finalized (products-upload-finalized): it
// judges the upload by its bytes (shared/picture: a JPEG, PNG or WebP within the
// limits), writes its display images, metadata stripped, to the photos bucket and shows
// the photo; or rejects it with the reason its seller sees. Either way the upload, which
// still carries whatever the camera wrote (GPS positions), is deleted once the outcome
// has committed. An object no photo waits for (an unknown name, a photo deleted or
// already judged) is deleted and otherwise ignored.
func (ph *Photos) OnUploadFinalized(ctx context.Context, tx pgx.Tx, o objectevent.Object) error {
	if o.Bucket != ph.uploads.Name() {
		slog.WarnContext(ctx, "upload-finalized from another bucket ignored", "bucket", o.Bucket, "object", o.Name)
		return nil
	}
	discard := func() {
		inbox.OnCommit(ctx, func(ctx context.Context) error { return ph.uploads.Delete(ctx, o.Name) })
	}
	product, photo, ok := parseUploadObject(o.Name)
	if !ok {
		discard()
		return nil
	}
	var status PhotoStatus
	err := tx.QueryRow(ctx, `SELECT status FROM products.photos WHERE id = $1 AND product_id = $2 FOR UPDATE`, photo, product).Scan(&status)
	if errors.Is(err, pgx.ErrNoRows) || (err == nil && status != PhotoUploading) {
		discard()
		return nil
	}
	if err != nil {
		return fmt.Errorf("lock photo %s: %w", photo, err)
	}
	data, err := ph.uploads.Read(ctx, o.Name, MaxUploadBytes)
	switch {
	case errors.Is(err, storage.ErrNotExist):
		return reject(ctx, tx, photo, RejectMissing, "the upload was not found when it was processed; upload the photo again")
	case errors.Is(err, storage.ErrTooLarge):
		discard()
		return reject(ctx, tx, photo, string(picture.TooLarge), fmt.Sprintf("the file is larger than %d MiB", MaxUploadBytes>>20))
	case err != nil:
		return fault.ErrUnavailable.WithMessage("the file storage cannot be read now").Wrap(fmt.Errorf("read upload %s: %w", o.Name, err))
	}
	discard()
	res, err := picture.Process(data, picture.DefaultLimits, picture.DisplaySizes)
	var refused *picture.Rejection
	if errors.As(err, &refused) {
		return reject(ctx, tx, photo, string(refused.Reason), refused.Message)
	}
	if err != nil {
		return fmt.Errorf("process upload %s: %w", o.Name, err)
	}
	urls := map[string]string{}
	var large picture.Rendition
	for _, r := range res.Renditions {
		object := displayObject(product, photo, r.Name)
		// The names are the photo's own: a retried delivery writes the same objects again.
		if err := ph.photos.Write(ctx, object, r.Data, storage.Meta{ContentType: r.ContentType, CacheControl: PhotoCache}); err != nil {
			return fault.ErrUnavailable.WithMessage("the file storage cannot be written now").Wrap(fmt.Errorf("write %s: %w", object, err))
		}
		urls[r.Name] = ph.base + "/" + object
		if r.Name == "large" {
			large = r
		}
	}
	_, err = tx.Exec(ctx, `
		UPDATE products.photos
		   SET status = 'READY', format = $2, width = $3, height = $4, thumb_url = $5, large_url = $6, processed_at = $7
		 WHERE id = $1`, photo, res.Format, large.Width, large.Height, urls["thumb"], urls["large"], postgres.Time(time.Now()))
	if err != nil {
		return fmt.Errorf("show photo %s: %w", photo, err)
	}
	return nil
}

// reject takes photo out of the order with why.
func reject(ctx context.Context, tx pgx.Tx, photo uuid.UUID, code, message string) error {
	_, err := tx.Exec(ctx, `
		UPDATE products.photos
		   SET status = 'REJECTED', position = NULL, reject_code = $2, reject_reason = $3, processed_at = $4
		 WHERE id = $1`, photo, code, message, postgres.Time(time.Now()))
	if err != nil {
		return fmt.Errorf("reject photo %s: %w", photo, err)
	}
	slog.InfoContext(ctx, "photo rejected", "photoId", photo, "reason", code)
	return nil
}

func parseUploadObject(name string) (product, photo uuid.UUID, ok bool) {
	a, b, found := strings.Cut(name, "/")
	if !found {
		return uuid.Nil, uuid.Nil, false
	}
	product, err1 := uuid.Parse(a)
	photo, err2 := uuid.Parse(b)
	if err1 != nil || err2 != nil || uploadObject(product, photo) != name {
		return uuid.Nil, uuid.Nil, false
	}
	return product, photo, true
}

// SweepResult counts what a sweep did.
type SweepResult struct {
	Expired int `json:"expired"` // uploads given up
	Pruned  int `json:"pruned"`  // rejected photos forgotten
	Removed int `json:"removed"` // objects deleted from the buckets
	Failed  int `json:"failed"`  // deletions to try again next time
}

// Sweep is products-photo-sweep: it gives up the uploads that have not become photos
// UploadGrace after their URL expired (the seller sees UPLOAD_EXPIRED), forgets photos
// rejected more than RejectedKept ago, and deletes the objects removals are due for,
// batch at a time. A deletion that fails stays for the next sweep; concurrent sweeps
// share the work (SKIP LOCKED).
func (ph *Photos) Sweep(ctx context.Context, now time.Time, batch int) (SweepResult, error) {
	var res SweepResult
	err := pgx.BeginFunc(ctx, ph.db, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `
			UPDATE products.photos
			   SET status = 'REJECTED', position = NULL, reject_code = $2, reject_reason = $3, processed_at = $1
			 WHERE status = 'UPLOADING' AND upload_expires_at < $1::timestamptz - make_interval(secs => $4)
			RETURNING upload_object`,
			now, RejectExpired, "no upload arrived before the upload URL expired", UploadGrace.Seconds())
		if err != nil {
			return fmt.Errorf("expire uploads: %w", err)
		}
		objects, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return fmt.Errorf("expire uploads: %w", err)
		}
		res.Expired = len(objects)
		roles := make([]string, len(objects))
		for i := range roles {
			roles[i] = uploadsRole
		}
		if err := scheduleRemoval(ctx, tx, roles, objects); err != nil {
			return err
		}
		res.Pruned, err = dropPhotos(ctx, tx, `status = 'REJECTED' AND processed_at < $1::timestamptz - make_interval(secs => $2)`,
			now, RejectedKept.Seconds())
		return err
	})
	if err != nil {
		return res, err
	}
	for {
		removed, failed, err := ph.removeBatch(ctx, batch)
		res.Removed += removed
		res.Failed += failed
		if err != nil || removed+failed < batch {
			return res, err
		}
	}
}

// removeBatch deletes up to batch due objects and their rows; a failed deletion is put
// back a little later.
func (ph *Photos) removeBatch(ctx context.Context, batch int) (removed, failed int, err error) {
	err = pgx.BeginFunc(ctx, ph.db, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `
			SELECT bucket, object FROM products.photo_removals
			 WHERE due_at <= now() ORDER BY due_at LIMIT $1 FOR UPDATE SKIP LOCKED`, batch)
		if err != nil {
			return fmt.Errorf("due removals: %w", err)
		}
		type removal struct{ bucket, object string }
		due, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (removal, error) {
			var r removal
			err := row.Scan(&r.bucket, &r.object)
			return r, err
		})
		if err != nil {
			return fmt.Errorf("due removals: %w", err)
		}
		for _, r := range due {
			b := ph.photos
			if r.bucket == uploadsRole {
				b = ph.uploads
			}
			if err := b.Delete(ctx, r.object); err != nil {
				slog.WarnContext(ctx, "object removal failed; retried by the next sweep", "bucket", b.Name(), "object", r.object, "error", err.Error())
				failed++
				if _, err := tx.Exec(ctx, `
					UPDATE products.photo_removals SET attempts = attempts + 1,
					       due_at = now() + make_interval(mins => least(attempts + 1, 60))
					 WHERE bucket = $1 AND object = $2`, r.bucket, r.object); err != nil {
					return fmt.Errorf("postpone removal: %w", err)
				}
				continue
			}
			if _, err := tx.Exec(ctx, `DELETE FROM products.photo_removals WHERE bucket = $1 AND object = $2`, r.bucket, r.object); err != nil {
				return fmt.Errorf("done removal: %w", err)
			}
			removed++
		}
		return nil
	})
	return removed, failed, err
}
