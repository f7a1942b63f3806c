package objectstore_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/8949market/market/shared/devstack/objectstore"
	"github.com/8949market/market/shared/objectevent"
	"github.com/8949market/market/shared/storage"
)

const (
	origin = "https://market.example"
	object = "0b8f7a4e-1c2d-4e5f-8a9b-0c1d2e3f4a5b/9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a"
	maxLen = 16
)

var key = []byte("0123456789abcdef0123456789abcdef")

type testBundle struct {
	top     string // the directory above the stand-in's
	handler http.Handler
	uploads *storage.Local
	photos  *storage.Local

	mu        sync.Mutex
	notified  []objectevent.Object
	notifyErr error
}

func (b *testBundle) notices() []objectevent.Object {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]objectevent.Object(nil), b.notified...)
}

// setup serves a stand-in over the buckets uploads (private) and photos (public), under
// /storage as the dev stack mounts it, recording what it announces.
func setup(t *testing.T) *testBundle {
	t.Helper()
	top := t.TempDir()
	dir := filepath.Join(top, "a", "b")
	b := &testBundle{top: top}
	var err error
	if b.uploads, err = storage.NewLocal(dir, "uploads", "http://storage.test/storage", key); err != nil {
		t.Fatal(err)
	}
	if b.photos, err = storage.NewLocal(dir, "photos", "http://storage.test/storage", key); err != nil {
		t.Fatal(err)
	}
	b.handler = http.StripPrefix("/storage", objectstore.New(objectstore.Options{
		Buckets: []*storage.Local{b.uploads, b.photos},
		Public:  []string{"photos"},
		Origins: []string{origin},
		Notify: func(_ context.Context, o objectevent.Object) error {
			b.mu.Lock()
			defer b.mu.Unlock()
			if b.notifyErr != nil {
				return b.notifyErr
			}
			b.notified = append(b.notified, o)
			return nil
		},
	}))
	return b
}

// sign returns a signed upload of object to the uploads bucket: image/jpeg, at most
// maxLen bytes.
func (b *testBundle) sign(t *testing.T, ttl time.Duration) storage.SignedUpload {
	t.Helper()
	up, err := b.uploads.SignUpload(context.Background(), object, "image/jpeg", maxLen, ttl)
	if err != nil {
		t.Fatal(err)
	}
	return up
}

// put sends the upload as a client does, its headers as given.
func (b *testBundle) put(up storage.SignedUpload, body io.Reader, change func(r *http.Request)) *httptest.ResponseRecorder {
	r := httptest.NewRequest(up.Method, up.URL, body)
	for k, v := range up.Headers {
		r.Header.Set(k, v)
	}
	if change != nil {
		change(r)
	}
	w := httptest.NewRecorder()
	b.handler.ServeHTTP(w, r)
	return w
}

// errorCode is the Code of an XML API error document.
func errorCode(t *testing.T, w *httptest.ResponseRecorder) string {
	t.Helper()
	body := w.Body.String()
	if !strings.HasPrefix(body, "<?xml version='1.0' encoding='UTF-8'?><Error><Code>") {
		t.Errorf("not an XML API error: %q", body)
	}
	code, _, _ := strings.Cut(strings.TrimPrefix(body, "<?xml version='1.0' encoding='UTF-8'?><Error><Code>"), "<")
	return code
}

func TestUpload(t *testing.T) {
	t.Parallel()
	b := setup(t)
	before := time.Now()
	body := []byte("0123456789abcdef") // maxLen bytes exactly
	w := b.put(b.sign(t, time.Minute), bytes.NewReader(body), nil)
	if w.Code != http.StatusOK {
		t.Fatalf("PUT: %d %s", w.Code, w.Body)
	}
	sum := md5.Sum(body)
	if got := w.Header().Get("ETag"); got != `"`+hex.EncodeToString(sum[:])+`"` {
		t.Errorf("ETag %s", got)
	}
	got, err := b.uploads.Read(context.Background(), object, maxLen)
	if err != nil || !bytes.Equal(got, body) {
		t.Fatalf("stored %q, %v", got, err)
	}
	notices := b.notices()
	if len(notices) != 1 {
		t.Fatalf("%d notices, want 1", len(notices))
	}
	o := notices[0]
	if o.Bucket != "uploads" || o.Name != object || o.ContentType != "image/jpeg" || o.Size != "16" || o.Generation == "" ||
		o.Generation != w.Header().Get("X-Goog-Generation") || o.TimeCreated.Before(before.Add(-time.Second)) {
		t.Errorf("notice %+v", o)
	}
}

func TestUploadRefused(t *testing.T) {
	t.Parallel()
	body := "0123456789abcdef"
	for _, tc := range []struct {
		name   string
		ttl    time.Duration
		body   io.Reader
		change func(r *http.Request)
		// existing puts the object first.
		existing bool
		status   int
		code     string
	}{
		{name: "bad signature", change: func(r *http.Request) {
			q := r.URL.Query()
			sig := []byte(q.Get("X-Goog-Signature"))
			sig[0] ^= 1
			q.Set("X-Goog-Signature", string(sig))
			r.URL.RawQuery = q.Encode()
		}, status: 403, code: "SignatureDoesNotMatch"},
		{name: "no signature", change: func(r *http.Request) { r.URL.RawQuery = "" }, status: 403, code: "AccessDenied"},
		{name: "later deadline", change: func(r *http.Request) {
			q := r.URL.Query()
			q.Set("X-Goog-Expires", "99999999999")
			r.URL.RawQuery = q.Encode()
		}, status: 403, code: "SignatureDoesNotMatch"},
		{name: "expired", ttl: -time.Minute, status: 400, code: "ExpiredToken"},
		{name: "another object, same signature", change: func(r *http.Request) {
			r.URL.Path = strings.Replace(r.URL.Path, "9d8c", "0000", 1)
		}, status: 403, code: "SignatureDoesNotMatch"},
		{name: "another bucket, same signature", change: func(r *http.Request) {
			r.URL.Path = strings.Replace(r.URL.Path, "/uploads/", "/photos/", 1)
		}, status: 403, code: "SignatureDoesNotMatch"},
		{name: "another content type", change: func(r *http.Request) { r.Header.Set("Content-Type", "text/html") }, status: 403, code: "SignatureDoesNotMatch"},
		{name: "content type with parameters", change: func(r *http.Request) { r.Header.Set("Content-Type", "image/jpeg; charset=utf-8") }, status: 403, code: "SignatureDoesNotMatch"},
		{name: "two content types", change: func(r *http.Request) { r.Header.Add("Content-Type", "text/html") }, status: 403, code: "SignatureDoesNotMatch"},
		{name: "no size header", change: func(r *http.Request) { r.Header.Del(storage.SizeHeader) }, status: 403, code: "SignatureDoesNotMatch"},
		{name: "changed size header", change: func(r *http.Request) { r.Header.Set(storage.SizeHeader, "1,1000000") }, status: 403, code: "SignatureDoesNotMatch"},
		{name: "one byte over, with Content-Length", body: strings.NewReader(body + "x"), status: 400, code: "EntityTooLarge"},
		{name: "one byte over, chunked", body: io.MultiReader(strings.NewReader(body + "x")), status: 400, code: "EntityTooLarge"},
		{name: "far over, chunked", body: io.MultiReader(bytes.NewReader(make([]byte, 10<<20))), status: 400, code: "EntityTooLarge"},
		{name: "Content-Length lies low", body: strings.NewReader(body + "x"), change: func(r *http.Request) { r.ContentLength = 3 }, status: 400, code: "EntityTooLarge"},
		{name: "empty body", body: strings.NewReader(""), status: 400, code: "EntityTooSmall"},
		{name: "empty body, chunked", body: io.MultiReader(), status: 400, code: "EntityTooSmall"},
		{name: "existing object", existing: true, status: 403, code: "AccessDenied"},
		{name: "unknown bucket", change: func(r *http.Request) {
			r.URL.Path = strings.Replace(r.URL.Path, "/uploads/", "/secrets/", 1)
		}, status: 404, code: "NoSuchBucket"},
		{name: "DELETE", change: func(r *http.Request) { r.Method = http.MethodDelete }, status: 405, code: "MethodNotAllowed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			ttl := tc.ttl
			if ttl == 0 {
				ttl = time.Minute
			}
			if tc.existing {
				if w := b.put(b.sign(t, time.Minute), strings.NewReader("first"), nil); w.Code != 200 {
					t.Fatalf("first PUT: %d %s", w.Code, w.Body)
				}
			}
			reqBody := tc.body
			if reqBody == nil {
				reqBody = strings.NewReader(body)
			}
			w := b.put(b.sign(t, ttl), reqBody, tc.change)
			if w.Code != tc.status || errorCode(t, w) != tc.code {
				t.Errorf("PUT: %d %s, want %d %s", w.Code, w.Body, tc.status, tc.code)
			}
			got, err := b.uploads.Read(context.Background(), object, 1<<30)
			switch {
			case tc.existing:
				if string(got) != "first" || len(b.notices()) != 1 {
					t.Errorf("the existing object is now %q, %v; %d notices", got, err, len(b.notices()))
				}
			case !errors.Is(err, storage.ErrNotExist):
				t.Errorf("an object was kept: %q, %v", got, err)
			case len(b.notices()) != 0:
				t.Errorf("notified %v", b.notices())
			}
			if tc.name == "another bucket, same signature" {
				if _, err := b.photos.Read(context.Background(), object, 1<<30); !errors.Is(err, storage.ErrNotExist) {
					t.Errorf("a photo was kept: %v", err)
				}
			}
		})
	}
}

func TestPathTraversal(t *testing.T) {
	t.Parallel()
	for _, target := range []string{
		"/storage/uploads/..%2f..%2f..%2fescaped",
		"/storage/uploads/../../../escaped",
		"/storage/photos/..%2f..%2f..%2fescaped",
		"/storage/uploads/a%2f..%2f..%2f..%2f..%2fescaped",
		"/storage/uploads/%2fescaped",
		"/storage/uploads/a%5c..%5cescaped",
		"/storage/uploads/a%00b",
	} {
		for _, method := range []string{http.MethodPut, http.MethodGet} {
			t.Run(method+" "+target, func(t *testing.T) {
				t.Parallel()
				b := setup(t)
				r := httptest.NewRequest(method, target+"?X-Goog-Expires=99999999999&X-Goog-Signature=00", strings.NewReader("x"))
				r.Header.Set("Content-Type", "image/jpeg")
				r.Header.Set(storage.SizeHeader, "1,16")
				w := httptest.NewRecorder()
				b.handler.ServeHTTP(w, r)
				if w.Code != 400 && w.Code != 403 {
					t.Errorf("%s: %d %s, want 400 or 403", target, w.Code, w.Body)
				}
				var outside []string
				_ = filepath.WalkDir(b.top, func(p string, d os.DirEntry, err error) error {
					if err == nil && !d.IsDir() {
						outside = append(outside, p)
					}
					return nil
				})
				if len(outside) != 0 {
					t.Errorf("files written: %v", outside)
				}
			})
		}
	}
}

func TestNotifyFails(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.notifyErr = errors.New("pubsub unavailable")
	up := b.sign(t, time.Minute)
	w := b.put(up, strings.NewReader("photo"), nil)
	if w.Code != http.StatusServiceUnavailable {
		t.Fatalf("PUT: %d %s, want 503", w.Code, w.Body)
	}
	if _, err := b.uploads.Read(context.Background(), object, 100); !errors.Is(err, storage.ErrNotExist) {
		t.Fatalf("the unannounced object was kept: %v", err)
	}
	// The client's retry with the same URL creates and announces it.
	b.mu.Lock()
	b.notifyErr = nil
	b.mu.Unlock()
	if w := b.put(up, strings.NewReader("photo"), nil); w.Code != http.StatusOK {
		t.Fatalf("retry: %d %s", w.Code, w.Body)
	}
	if n := len(b.notices()); n != 1 {
		t.Errorf("%d notices after the retry, want 1", n)
	}
}

func TestServe(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const cache = "public, max-age=31536000, immutable"
	for _, tc := range []struct {
		name    string
		method  string
		target  string
		header  map[string]string
		status  int
		code    string
		body    string
		headers map[string]string
	}{
		{name: "public GET", method: "GET", target: "/storage/photos/p1/ph1.webp", status: 200, body: "webp bytes",
			headers: map[string]string{"Content-Type": "image/webp", "Cache-Control": cache, "X-Content-Type-Options": "nosniff"}},
		{name: "public HEAD", method: "HEAD", target: "/storage/photos/p1/ph1.webp", status: 200,
			headers: map[string]string{"Content-Type": "image/webp", "Cache-Control": cache, "Content-Length": "10"}},
		{name: "range", method: "GET", target: "/storage/photos/p1/ph1.webp", header: map[string]string{"Range": "bytes=0-3"}, status: 206, body: "webp"},
		{name: "missing photo", method: "GET", target: "/storage/photos/p1/none", status: 404, code: "NoSuchKey"},
		{name: "uploads are private", method: "GET", target: "/storage/uploads/p1/ph1", status: 403, code: "AccessDenied"},
		{name: "unknown bucket", method: "GET", target: "/storage/other/p1/ph1", status: 404, code: "NoSuchBucket"},
		{name: "no object", method: "GET", target: "/storage/photos/", status: 400, code: "InvalidArgument"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			if err := b.photos.Write(ctx, "p1/ph1.webp", []byte("webp bytes"), storage.Meta{ContentType: "image/webp", CacheControl: cache}); err != nil {
				t.Fatal(err)
			}
			if err := b.uploads.Write(ctx, "p1/ph1", []byte("upload"), storage.Meta{ContentType: "image/jpeg"}); err != nil {
				t.Fatal(err)
			}
			r := httptest.NewRequest(tc.method, tc.target, nil)
			for k, v := range tc.header {
				r.Header.Set(k, v)
			}
			w := httptest.NewRecorder()
			b.handler.ServeHTTP(w, r)
			if w.Code != tc.status {
				t.Fatalf("%s: %d %s, want %d", tc.target, w.Code, w.Body, tc.status)
			}
			if tc.code != "" && errorCode(t, w) != tc.code {
				t.Errorf("code %s, want %s", errorCode(t, w), tc.code)
			}
			if tc.code == "" && tc.method == "GET" && w.Body.String() != tc.body {
				t.Errorf("body %q, want %q", w.Body, tc.body)
			}
			for k, v := range tc.headers {
				if got := w.Header().Get(k); got != v {
					t.Errorf("%s: %q, want %q", k, got, v)
				}
			}
		})
	}
	t.Run("If-None-Match", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		if err := b.photos.Write(ctx, "p1/ph1.webp", []byte("webp bytes"), storage.Meta{ContentType: "image/webp", CacheControl: cache}); err != nil {
			t.Fatal(err)
		}
		w := httptest.NewRecorder()
		b.handler.ServeHTTP(w, httptest.NewRequest("GET", "/storage/photos/p1/ph1.webp", nil))
		etag := w.Header().Get("ETag")
		if etag == "" {
			t.Fatal("no ETag")
		}
		r := httptest.NewRequest("GET", "/storage/photos/p1/ph1.webp", nil)
		r.Header.Set("If-None-Match", etag)
		w = httptest.NewRecorder()
		b.handler.ServeHTTP(w, r)
		if w.Code != http.StatusNotModified || w.Body.Len() != 0 {
			t.Errorf("conditional GET: %d %q, want 304", w.Code, w.Body)
		}
		if w.Header().Get("Cache-Control") != cache {
			t.Errorf("304 without Cache-Control: %q", w.Header().Get("Cache-Control"))
		}
	})
}

func TestCORS(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		origin  string
		method  string
		headers string
		allowed bool
	}{
		{name: "upload from an allowed origin", origin: origin, method: "PUT", headers: "content-type,x-goog-content-length-range", allowed: true},
		{name: "read from an allowed origin", origin: origin, method: "GET", allowed: true},
		{name: "another origin", origin: "https://evil.example", method: "PUT", headers: "content-type"},
		{name: "DELETE", origin: origin, method: "DELETE"},
		{name: "another header", origin: origin, method: "PUT", headers: "authorization"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			r := httptest.NewRequest(http.MethodOptions, "/storage/uploads/p1/ph1", nil)
			r.Header.Set("Origin", tc.origin)
			r.Header.Set("Access-Control-Request-Method", tc.method)
			if tc.headers != "" {
				r.Header.Set("Access-Control-Request-Headers", tc.headers)
			}
			w := httptest.NewRecorder()
			b.handler.ServeHTTP(w, r)
			got := w.Header().Get("Access-Control-Allow-Origin")
			if tc.allowed {
				if got != tc.origin || w.Header().Get("Access-Control-Max-Age") != "3600" || w.Header().Get("Access-Control-Allow-Credentials") != "" {
					t.Errorf("preflight refused or wrong: %d %v", w.Code, w.Header())
				}
				return
			}
			if got != "" {
				t.Errorf("preflight allowed: %v", w.Header())
			}
		})
	}
	t.Run("the upload's response", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		w := b.put(b.sign(t, time.Minute), strings.NewReader("photo"), func(r *http.Request) { r.Header.Set("Origin", origin) })
		if w.Code != 200 || w.Header().Get("Access-Control-Allow-Origin") != origin {
			t.Errorf("PUT from the page: %d %v", w.Code, w.Header())
		}
	})
}

// TestOverHTTP uploads with the signed URL as a client does, over a connection: the URL
// works as given, and a chunked body over the limit is refused.
func TestOverHTTP(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		body   io.Reader
		status int
	}{
		{name: "upload", body: strings.NewReader("photo"), status: http.StatusOK},
		{name: "chunked, over the limit", body: io.MultiReader(bytes.NewReader(make([]byte, 1<<20))), status: http.StatusBadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var handler http.Handler
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { handler.ServeHTTP(w, r) }))
			t.Cleanup(srv.Close)
			uploads, err := storage.NewLocal(t.TempDir(), "uploads", srv.URL+"/storage", key)
			if err != nil {
				t.Fatal(err)
			}
			handler = http.StripPrefix("/storage", objectstore.New(objectstore.Options{Buckets: []*storage.Local{uploads}}))
			up, err := uploads.SignUpload(context.Background(), object, "image/jpeg", maxLen, time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			r, err := http.NewRequestWithContext(context.Background(), up.Method, up.URL, tc.body)
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range up.Headers {
				r.Header.Set(k, v)
			}
			resp, err := srv.Client().Do(r)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != tc.status {
				body, _ := io.ReadAll(resp.Body)
				t.Fatalf("PUT: %d %s, want %d", resp.StatusCode, body, tc.status)
			}
			_, err = uploads.Read(context.Background(), object, 1<<30)
			if (err == nil) != (tc.status == http.StatusOK) {
				t.Errorf("Read after the PUT: %v", err)
			}
		})
	}
}
