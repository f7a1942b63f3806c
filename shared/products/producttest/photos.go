package producttest

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/8949market/market/shared/devstack/stacktest"
	"github.com/8949market/market/shared/products"
)

// PhotosPath is a product's photos route.
func PhotosPath(id uuid.UUID) string { return "/api/v1/products/" + id.String() + "/photos" }

// Slot asks for an upload slot of contentType for product id with token, and fails the
// test unless it is given.
func Slot(t testing.TB, st *stacktest.Stack, token string, id uuid.UUID, contentType string) products.UploadSlot {
	t.Helper()
	res := st.Do(t, http.MethodPost, PhotosPath(id), map[string]string{"contentType": contentType}, token)
	if res.Status != http.StatusCreated {
		t.Fatalf("producttest: upload slot: status %d: %s", res.Status, res.Body)
	}
	var slot products.UploadSlot
	res.Data(t, &slot)
	return slot
}

// Put sends data to url as an upload with headers (a signed upload's, or others to see
// them refused) and returns the status and body of the answer.
func Put(t testing.TB, url string, headers map[string]string, data []byte) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPut, url, bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("producttest: upload: %v", err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(body)
}

// Upload puts data through slot as a client does, and fails the test unless it is taken.
func Upload(t testing.TB, slot products.UploadSlot, data []byte) {
	t.Helper()
	if status, body := Put(t, slot.Upload.URL, slot.Upload.Headers, data); status != http.StatusOK {
		t.Fatalf("producttest: upload: status %d: %s", status, body)
	}
}

// Photos lists product id's photos as its seller (token) sees them.
func Photos(t testing.TB, st *stacktest.Stack, token string, id uuid.UUID) []products.PhotoState {
	t.Helper()
	res := st.Do(t, http.MethodGet, PhotosPath(id), nil, token)
	if res.Status != http.StatusOK {
		t.Fatalf("producttest: photos: status %d: %s", res.Status, res.Body)
	}
	var out []products.PhotoState
	res.Data(t, &out)
	return out
}

// Processed waits until photo of product id has left UPLOADING and returns it.
func Processed(t testing.TB, st *stacktest.Stack, token string, id, photo uuid.UUID) products.PhotoState {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		for _, p := range Photos(t, st, token, id) {
			if p.PhotoID == photo && p.Status != products.PhotoUploading {
				return p
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("producttest: photo %s still uploading after 30s", photo)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Fetch GETs url (a photo) and returns the answer, read whole.
func Fetch(t testing.TB, url string, headers map[string]string) stacktest.Response {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("producttest: fetch %s: %v", url, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("producttest: fetch %s: %v", url, err)
	}
	return stacktest.Response{Status: res.StatusCode, Header: res.Header, Body: body}
}

// Sweep runs products-photo-sweep now, as Cloud Scheduler would.
func Sweep(t testing.TB, st *stacktest.Stack) products.SweepResult {
	t.Helper()
	res := stacktest.Do(t, http.DefaultClient, http.MethodPost, st.InternalURL("products-photo-sweep"), nil, "")
	if res.Status != http.StatusOK {
		t.Fatalf("producttest: photo sweep: status %d: %s", res.Status, res.Body)
	}
	var out products.SweepResult
	res.Data(t, &out)
	return out
}

// SweptAway runs the photo sweep until every url answers 404 (parallel tests' sweeps
// share the due deletions, so one run may leave this test's to another), and fails the
// test if one still answers after 15 seconds.
func SweptAway(t testing.TB, st *stacktest.Stack, urls ...string) {
	t.Helper()
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		Sweep(t, st)
		left := 0
		for _, u := range urls {
			if Fetch(t, u, nil).Status != http.StatusNotFound {
				left++
			}
		}
		if left == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("producttest: %d of %d photo files still served after sweeping", left, len(urls))
		}
	}
}
