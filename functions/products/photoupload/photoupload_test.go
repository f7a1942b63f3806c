package photoupload_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image/jpeg"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/devstack/stacktest"
	"github.com/8949market/market/shared/picture/picturetest"
	"github.com/8949market/market/shared/products"
	"github.com/8949market/market/shared/products/producttest"
	"github.com/8949market/market/shared/storage"
)

// slotting is POST /api/v1/products/{id}/photos for a JPEG, checked by its answer and the
// photo row it leaves.
func slotting(st *stacktest.Stack) producttest.Change {
	return producttest.Change{
		Method: http.MethodPost, Path: producttest.PhotosPath, Malformed: "/api/v1/products/not-a-uuid/photos",
		Request: func() (any, producttest.Made) {
			return map[string]string{"contentType": "image/jpeg"}, func(t testing.TB, res stacktest.Response, p products.View, by uuid.UUID) {
				t.Helper()
				if res.Status != http.StatusCreated {
					t.Fatalf("slot: status %d: %s", res.Status, res.Body)
				}
				var slot products.UploadSlot
				res.Data(t, &slot)
				if slot.Position != 1 || slot.MaxBytes != products.MaxUploadBytes || slot.Upload.Method != http.MethodPut ||
					slot.Upload.Headers["Content-Type"] != "image/jpeg" || slot.Upload.Headers[storage.SizeHeader] != "1,10485760" ||
					!strings.Contains(slot.Upload.URL, p.ProductID.String()+"/"+slot.PhotoID.String()) {
					t.Errorf("slot = %+v", slot)
				}
				if left := time.Until(slot.Upload.ExpiresAt); left < 14*time.Minute || left > 15*time.Minute {
					t.Errorf("upload URL expires in %v, want 15 minutes", left)
				}
				var status string
				var createdBy uuid.UUID
				if err := st.Kit.DB.QueryRow(context.Background(), `SELECT status, created_by FROM products.photos WHERE id = $1 AND product_id = $2`,
					slot.PhotoID, p.ProductID).Scan(&status, &createdBy); err != nil {
					t.Fatal(err)
				}
				if status != "UPLOADING" || createdBy != by {
					t.Errorf("photo row %s by %s, want UPLOADING by %s", status, createdBy, by)
				}
			}
		},
	}
}

// Only the seller or an administrator gets an upload slot.
func TestPhotoUploadOwnerOrAdmin(t *testing.T) {
	t.Parallel()
	st := stacktest.Start(t)
	producttest.OwnerOrAdmin(t, st, producttest.NewParties(t, st), slotting(st))
}

// Slots follow the freeze rule of every other change.
func TestPhotoUploadStateRules(t *testing.T) {
	t.Parallel()
	st := stacktest.Start(t)
	seller, _ := st.Token(t, auth.RoleUser)
	who := producttest.NewParties(t, st)
	producttest.StateRules(t, st, who, slotting(st), []producttest.Case{
		{Name: "listed", Status: 200},
		{Name: "opening within the minute", Setup: producttest.Window(30*time.Second, time.Hour), Status: 409, Code: "P005"},
		{Name: "open", Setup: producttest.StoredIn(products.Reserving, -time.Minute, time.Hour), Status: 409, Code: "P005"},
		{Name: "cancelled", Setup: producttest.StoredIn(products.SaleCanceled, time.Hour, 2*time.Hour), Status: 409, Code: "P005"},
		{Name: "deleted", Setup: producttest.Deleted(who.SellerToken), Status: 404, Code: "P001"},
	})
	producttest.RefusesBadInput(t, st, seller, slotting(st), []producttest.Bad{
		{Name: "gif", Body: map[string]string{"contentType": "image/gif"}, Status: 400, Code: "P015", Field: "contentType"},
		{Name: "no type", Body: map[string]string{}, Status: 400, Code: "P015", Field: "contentType"},
		{Name: "type with parameters", Body: map[string]string{"contentType": "image/jpeg; charset=utf-8"}, Status: 400, Code: "P015", Field: "contentType"},
		{Name: "text", Body: map[string]string{"contentType": "text/plain"}, Status: 400, Code: "P015", Field: "contentType"},
		{Name: "unknown field", Body: map[string]any{"contentType": "image/jpeg", "size": 10}, Status: 400, Code: "C009"},
	})
}

// At most MaxPhotos photos, uploads in progress counted; a rejected one frees its place.
func TestPhotoUploadLimit(t *testing.T) {
	t.Parallel()
	st := stacktest.Start(t)
	token, _ := st.Token(t, auth.RoleUser)
	p := producttest.List(t, st, token)
	var slots []products.UploadSlot
	for i := range products.MaxPhotos {
		slot := producttest.Slot(t, st, token, p.ProductID, "image/png")
		if slot.Position != i+1 {
			t.Errorf("slot %d at position %d", i, slot.Position)
		}
		slots = append(slots, slot)
	}
	res := st.Do(t, http.MethodPost, producttest.PhotosPath(p.ProductID), map[string]string{"contentType": "image/png"}, token)
	res.RefusedOn(t, 409, "P014", "")
	producttest.Upload(t, slots[3], []byte("this is not a picture"))
	if got := producttest.Processed(t, st, token, p.ProductID, slots[3].PhotoID); got.Status != products.PhotoRejected {
		t.Fatalf("text upload: %+v", got)
	}
	producttest.Slot(t, st, token, p.ProductID, "image/png")
}

// The whole way: a phone photo with a GPS position, uploaded through its signed URL, shows
// on the product and in search as a thumbnail and a large image, metadata gone, served
// cacheable; the photos keep the order of their slots whatever order they are processed
// in. Logs the upload-to-visible latency.
func TestPhotoUploadShows(t *testing.T) {
	t.Parallel()
	st := stacktest.Start(t)
	token, _ := st.Token(t, auth.RoleUser)
	p := producttest.List(t, st, token)
	first := producttest.Slot(t, st, token, p.ProductID, "image/jpeg")
	second := producttest.Slot(t, st, token, p.ProductID, "image/png")

	phone := picturetest.WithGPS(t, picturetest.JPEG(t, 2000, 1500))
	if !bytes.Contains(phone, []byte("Exif")) {
		t.Fatal("fixture carries no EXIF")
	}
	producttest.Upload(t, second, picturetest.PNG(t, 640, 480))
	began := time.Now()
	producttest.Upload(t, first, phone)
	var v products.View
	for deadline := time.Now().Add(30 * time.Second); ; {
		v = producttest.Get(t, st, token, p.ProductID)
		if len(v.Photos) == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("photos not shown in 30s: %+v", producttest.Photos(t, st, token, p.ProductID))
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Logf("upload to visible on the product: %v", time.Since(began).Round(time.Millisecond))
	if v.Photos[0].PhotoID != first.PhotoID || v.Photos[1].PhotoID != second.PhotoID {
		t.Errorf("photos in order %s, %s; want the slots' %s, %s", v.Photos[0].PhotoID, v.Photos[1].PhotoID, first.PhotoID, second.PhotoID)
	}
	if got := v.Photos[0]; got.Width != 1600 || got.Height != 1200 {
		t.Errorf("large image %dx%d, want 1600x1200", got.Width, got.Height)
	}
	for _, tt := range []struct {
		url        string
		maxW, maxH int
	}{{v.Photos[0].URL, 1600, 1200}, {v.Photos[0].ThumbnailURL, 400, 300}, {v.Photos[1].URL, 640, 480}} {
		res := producttest.Fetch(t, tt.url, nil)
		body := res.Body
		if res.Status != http.StatusOK || res.Header.Get("Content-Type") != "image/jpeg" ||
			res.Header.Get("Cache-Control") != products.PhotoCache {
			t.Errorf("GET %s: %d %q %q", tt.url, res.Status, res.Header.Get("Content-Type"), res.Header.Get("Cache-Control"))
		}
		for _, meta := range [][]byte{[]byte("Exif"), []byte("GPS"), {0xFF, 0xE1}} {
			if bytes.Contains(body, meta) {
				t.Errorf("GET %s: served image carries %q", tt.url, meta)
			}
		}
		cfg, err := jpeg.DecodeConfig(bytes.NewReader(body))
		if err != nil || cfg.Width != tt.maxW || cfg.Height != tt.maxH {
			t.Errorf("GET %s: %dx%d (%v), want %dx%d", tt.url, cfg.Width, cfg.Height, err, tt.maxW, tt.maxH)
		}
		if etag := res.Header.Get("ETag"); etag != "" {
			if again := producttest.Fetch(t, tt.url, map[string]string{"If-None-Match": etag}); again.Status != http.StatusNotModified {
				t.Errorf("GET %s If-None-Match: %d, want 304", tt.url, again.Status)
			}
		}
	}
	res := st.Do(t, http.MethodGet, "/api/v1/products?sellerId="+p.SellerID.String(), nil, token)
	var page struct {
		Content []products.Item `json:"content"`
	}
	res.Data(t, &page)
	if len(page.Content) != 1 || page.Content[0].ThumbnailURL == nil || *page.Content[0].ThumbnailURL != v.Photos[0].ThumbnailURL {
		t.Errorf("search items %+v, want the first photo's thumbnail", page.Content)
	}
	// The uploads, GPS positions and all, are gone once processed.
	for _, slot := range []products.UploadSlot{first, second} {
		gone(t, st, p.ProductID.String()+"/"+slot.PhotoID.String())
	}
}

// gone waits until the uploads bucket no longer holds object.
func gone(t testing.TB, st *stacktest.Stack, object string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if _, err := uploads(t, st).Read(context.Background(), object, 1); errors.Is(err, storage.ErrNotExist) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("upload %s still kept", object)
		}
	}
}

// tamper changes the last character of a signed URL (its signature's) to another.
func tamper(url string) string {
	last := url[len(url)-1]
	other := byte('0')
	if last == '0' {
		other = '1'
	}
	return url[:len(url)-1] + string(other)
}

func uploads(t testing.TB, st *stacktest.Stack) storage.Bucket {
	t.Helper()
	b, _, err := st.Kit.Buckets()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// A signed upload URL is good for its one object, content type and size range, once.
func TestPhotoUploadURLBinding(t *testing.T) {
	t.Parallel()
	st := stacktest.Start(t)
	token, _ := st.Token(t, auth.RoleUser)
	p := producttest.List(t, st, token)
	slot := producttest.Slot(t, st, token, p.ProductID, "image/jpeg")
	other := producttest.Slot(t, st, token, p.ProductID, "image/jpeg")
	photo := picturetest.JPEG(t, 300, 200)
	with := func(k, v string) map[string]string {
		h := map[string]string{}
		for hk, hv := range slot.Upload.Headers {
			h[hk] = hv
		}
		if v == "" {
			delete(h, k)
		} else {
			h[k] = v
		}
		return h
	}
	for _, tt := range []struct {
		name    string
		url     string
		headers map[string]string
		data    []byte
		status  int
		code    string
	}{
		{"another object", strings.Replace(slot.Upload.URL, slot.PhotoID.String(), other.PhotoID.String(), 1), slot.Upload.Headers, photo, 403, "SignatureDoesNotMatch"},
		{"another product", strings.Replace(slot.Upload.URL, p.ProductID.String(), uuid.NewString(), 1), slot.Upload.Headers, photo, 403, "SignatureDoesNotMatch"},
		{"another content type", slot.Upload.URL, with("Content-Type", "image/png"), photo, 403, "SignatureDoesNotMatch"},
		{"html", slot.Upload.URL, with("Content-Type", "text/html"), []byte("<script>alert(1)</script>"), 403, "SignatureDoesNotMatch"},
		{"no size range", slot.Upload.URL, with(storage.SizeHeader, ""), photo, 403, "SignatureDoesNotMatch"},
		{"a wider size range", slot.Upload.URL, with(storage.SizeHeader, "1,104857600"), photo, 403, "SignatureDoesNotMatch"},
		{"too large", slot.Upload.URL, slot.Upload.Headers, make([]byte, products.MaxUploadBytes+1), 400, "EntityTooLarge"},
		{"empty", slot.Upload.URL, slot.Upload.Headers, nil, 400, "EntityTooSmall"},
		{"tampered signature", tamper(slot.Upload.URL), slot.Upload.Headers, photo, 403, "SignatureDoesNotMatch"},
	} {
		status, body := producttest.Put(t, tt.url, tt.headers, tt.data)
		if status != tt.status || !strings.Contains(body, "<Code>"+tt.code+"</Code>") {
			t.Errorf("%s: %d %s, want %d %s", tt.name, status, body, tt.status, tt.code)
		}
	}
	for _, s := range producttest.Photos(t, st, token, p.ProductID) {
		if s.Status != products.PhotoUploading {
			t.Errorf("after refused uploads, photo %s is %s", s.PhotoID, s.Status)
		}
	}
	producttest.Upload(t, slot, photo)
	if status, body := producttest.Put(t, slot.Upload.URL, slot.Upload.Headers, picturetest.JPEG(t, 400, 300)); status < 400 {
		t.Errorf("second upload through the same URL: %d %s", status, body)
	}
	if got := producttest.Processed(t, st, token, p.ProductID, slot.PhotoID); got.Status != products.PhotoReady {
		t.Errorf("photo %+v, want READY", got)
	}
}

// Files that are not photos the platform shows are refused with the reason the seller
// sees, and nothing of them is kept or shown.
func TestPhotoUploadRefusesBadFiles(t *testing.T) {
	t.Parallel()
	st := stacktest.Start(t)
	token, _ := st.Token(t, auth.RoleUser)
	jpg := picturetest.JPEG(t, 800, 600)
	for _, tt := range []struct {
		name, contentType string
		data              []byte
		code              string
	}{
		{"a text file named a photo", "image/jpeg", []byte("Dear buyer, this is definitely a photo of a chair.\n"), "NOT_AN_IMAGE"},
		{"html", "image/png", []byte("<!doctype html><script>alert(1)</script>"), "NOT_AN_IMAGE"},
		{"a gif", "image/jpeg", picturetest.GIF(t, 200, 200), "UNSUPPORTED_FORMAT"},
		{"a decompression bomb", "image/png", picturetest.PNGBomb(t, 60000, 60000), "IMAGE_TOO_LARGE"},
		{"a truncated jpeg", "image/jpeg", jpg[:len(jpg)/2], "CORRUPT_IMAGE"},
		{"a thumbnail-sized image", "image/jpeg", picturetest.JPEG(t, 50, 50), "IMAGE_TOO_SMALL"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := producttest.List(t, st, token)
			slot := producttest.Slot(t, st, token, p.ProductID, tt.contentType)
			producttest.Upload(t, slot, tt.data)
			got := producttest.Processed(t, st, token, p.ProductID, slot.PhotoID)
			if got.Status != products.PhotoRejected || got.Rejection == nil || got.Rejection.Code != tt.code ||
				got.Rejection.Message == "" || got.Position != nil || got.URL != nil {
				t.Fatalf("photo %+v, want REJECTED %s with a message", got, tt.code)
			}
			if v := producttest.Get(t, st, token, p.ProductID); len(v.Photos) != 0 {
				t.Errorf("product shows %d photos", len(v.Photos))
			}
			gone(t, st, fmt.Sprintf("%s/%s", p.ProductID, slot.PhotoID))
		})
	}
}
