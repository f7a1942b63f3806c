package storage

import (
	"context"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/8949market/market/shared/config"
)

var testKey = []byte("0123456789abcdef0123456789abcdef")

type localBundle struct {
	dir    string
	bucket *Local
}

// setupLocal returns an empty local bucket "uploads" in its own directory.
func setupLocal(t *testing.T) localBundle {
	t.Helper()
	dir := t.TempDir()
	b, err := NewLocal(dir, "uploads", "http://127.0.0.1:8080/storage/", testKey)
	if err != nil {
		t.Fatalf("NewLocal: %v", err)
	}
	return localBundle{dir: dir, bucket: b}
}

func TestNewLocal(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		bucket string
		key    []byte
		ok     bool
	}{
		{name: "good", bucket: "photos", key: testKey, ok: true},
		{name: "short key", bucket: "photos", key: testKey[:31]},
		{name: "no key", bucket: "photos"},
		{name: "empty bucket", bucket: "", key: testKey},
		{name: "bucket with a slash", bucket: "a/b", key: testKey},
		{name: "bucket ..", bucket: "..", key: testKey},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := NewLocal(t.TempDir(), tc.bucket, "http://x", tc.key)
			if (err == nil) != tc.ok {
				t.Errorf("NewLocal: %v, want ok %v", err, tc.ok)
			}
		})
	}
}

func TestLocalReadWriteDelete(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	meta := Meta{ContentType: "image/webp", CacheControl: "public, max-age=60"}

	t.Run("write, read, open, delete", func(t *testing.T) {
		t.Parallel()
		b := setupLocal(t)
		if err := b.bucket.Write(ctx, "p1/ph1", []byte("photo"), meta); err != nil {
			t.Fatalf("Write: %v", err)
		}
		if got, err := b.bucket.Read(ctx, "p1/ph1", 5); err != nil || string(got) != "photo" {
			t.Fatalf("Read: %q, %v", got, err)
		}
		f, attrs, err := b.bucket.Open("p1/ph1")
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		f.Close()
		if attrs.ContentType != meta.ContentType || attrs.CacheControl != meta.CacheControl || attrs.Size != 5 || attrs.Generation == 0 || attrs.Created.IsZero() {
			t.Errorf("attributes %+v", attrs)
		}
		if _, err := os.Stat(filepath.Join(b.dir, "uploads", "objects", "p1", "ph1")); err != nil {
			t.Errorf("the bytes are not where the layout says: %v", err)
		}
		if _, err := os.Stat(filepath.Join(b.dir, "uploads", "meta", "p1", "ph1.json")); err != nil {
			t.Errorf("the metadata is not where the layout says: %v", err)
		}
		if err := b.bucket.Write(ctx, "p1/ph1", []byte("other"), meta); err != nil {
			t.Fatalf("Write again: %v", err)
		}
		if got, err := b.bucket.Read(ctx, "p1/ph1", 5); err != nil || string(got) != "other" {
			t.Errorf("Read after a replacing Write: %q, %v", got, err)
		}
		if err := b.bucket.Delete(ctx, "p1/ph1"); err != nil {
			t.Fatalf("Delete: %v", err)
		}
		if _, err := b.bucket.Read(ctx, "p1/ph1", 5); !errors.Is(err, ErrNotExist) {
			t.Errorf("Read after Delete: %v, want ErrNotExist", err)
		}
		if err := b.bucket.Delete(ctx, "p1/ph1"); err != nil {
			t.Errorf("Delete of a missing object: %v", err)
		}
		if left, _ := os.ReadDir(filepath.Join(b.dir, "uploads", "tmp")); len(left) != 0 {
			t.Errorf("temporary files left: %v", left)
		}
	})
	t.Run("create only once", func(t *testing.T) {
		t.Parallel()
		b := setupLocal(t)
		if _, err := b.bucket.Create(ctx, "p1/ph1", []byte("first"), meta); err != nil {
			t.Fatalf("Create: %v", err)
		}
		if _, err := b.bucket.Create(ctx, "p1/ph1", []byte("second"), meta); !errors.Is(err, ErrExist) {
			t.Fatalf("Create again: %v, want ErrExist", err)
		}
		if got, _ := b.bucket.Read(ctx, "p1/ph1", 10); string(got) != "first" {
			t.Errorf("Read: %q, want the first", got)
		}
	})
	t.Run("create races", func(t *testing.T) {
		t.Parallel()
		b := setupLocal(t)
		start := make(chan struct{})
		results := make(chan error, 20)
		for range 20 {
			go func() {
				<-start
				_, err := b.bucket.Create(ctx, "p1/ph1", []byte("x"), meta)
				results <- err
			}()
		}
		close(start)
		won := 0
		for range 20 {
			switch err := <-results; {
			case err == nil:
				won++
			case !errors.Is(err, ErrExist):
				t.Errorf("Create: %v", err)
			}
		}
		if won != 1 {
			t.Errorf("%d creates won, want 1", won)
		}
	})
	for _, tc := range []struct {
		name   string
		data   string
		limit  int64
		object string
		want   error
	}{
		{name: "missing object", object: "missing", limit: 10, want: ErrNotExist},
		{name: "one byte over the limit", object: "big", data: "123456", limit: 5, want: ErrTooLarge},
		{name: "exactly the limit", object: "fits", data: "12345", limit: 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setupLocal(t)
			if tc.data != "" {
				if err := b.bucket.Write(ctx, tc.object, []byte(tc.data), meta); err != nil {
					t.Fatal(err)
				}
			}
			got, err := b.bucket.Read(ctx, tc.object, tc.limit)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Read: %v, want %v", err, tc.want)
			}
			if tc.want == nil && string(got) != tc.data {
				t.Errorf("Read: %q, want %q", got, tc.data)
			}
		})
	}
}

func TestLocalInvalidNames(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, name := range []string{
		"", "/etc/passwd", "..", "../outside", "a/../../outside", "a/./b", "a//b", "a/", `a\b`, "a\x00b", "a\nb", "a\x7fb",
		strings.Repeat("a", 1025), "\xff",
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b := setupLocal(t)
			if ValidName(name) {
				t.Errorf("ValidName(%q) is true", name)
			}
			if err := b.bucket.Write(ctx, name, []byte("x"), Meta{ContentType: "text/plain"}); !errors.Is(err, ErrInvalidName) {
				t.Errorf("Write: %v, want ErrInvalidName", err)
			}
			if _, err := b.bucket.Read(ctx, name, 10); !errors.Is(err, ErrInvalidName) {
				t.Errorf("Read: %v, want ErrInvalidName", err)
			}
			if err := b.bucket.Delete(ctx, name); !errors.Is(err, ErrInvalidName) {
				t.Errorf("Delete: %v, want ErrInvalidName", err)
			}
			if _, err := b.bucket.SignUpload(ctx, name, "text/plain", 10, time.Minute); !errors.Is(err, ErrInvalidName) {
				t.Errorf("SignUpload: %v, want ErrInvalidName", err)
			}
			if entries, _ := os.ReadDir(b.dir); len(entries) != 1 {
				t.Errorf("files beside the bucket: %v", entries)
			}
		})
	}
	for _, name := range []string{"p1/ph1", "a", "a.b/c-d_e", "ユーザー/写真", strings.Repeat("a", 1024)} {
		if !ValidName(name) {
			t.Errorf("ValidName(%q) is false", name)
		}
	}
}

func TestLocalSignUpload(t *testing.T) {
	t.Parallel()
	b := setupLocal(t)
	now := time.Now()
	up, err := b.bucket.SignUpload(context.Background(), "p1/ph 1", "image/jpeg", 1000, 15*time.Minute)
	if err != nil {
		t.Fatalf("SignUpload: %v", err)
	}
	if up.Method != "PUT" || up.Headers["Content-Type"] != "image/jpeg" || up.Headers[SizeHeader] != "1,1000" || len(up.Headers) != 2 {
		t.Errorf("SignUpload: method %q, headers %v", up.Method, up.Headers)
	}
	u, err := url.Parse(up.URL)
	if err != nil {
		t.Fatal(err)
	}
	if u.Scheme+"://"+u.Host != "http://127.0.0.1:8080" || u.Path != "/storage/uploads/p1/ph 1" || u.EscapedPath() != "/storage/uploads/p1/ph%201" {
		t.Errorf("URL %s", up.URL)
	}
	expires, sig := u.Query().Get("X-Goog-Expires"), u.Query().Get("X-Goog-Signature")
	if expires != strconv.FormatInt(up.ExpiresAt.Unix(), 10) || sig == "" {
		t.Errorf("X-Goog-Expires %s, ExpiresAt %v", expires, up.ExpiresAt)
	}
	if err := b.bucket.Check("PUT", "p1/ph 1", "image/jpeg", "1,1000", expires, sig, now); err != nil {
		t.Fatalf("Check of the request signed: %v", err)
	}
	other, err := NewLocal(b.dir, "photos", "http://x", testKey)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name                                    string
		bucket                                  *Local
		method, object, ct, sizeRange, exp, sig string
		now                                     time.Time
		want                                    error
	}{
		{name: "another method", method: "DELETE", want: ErrBadSignature},
		{name: "another object", object: "p1/ph2", want: ErrBadSignature},
		{name: "another bucket", bucket: other, want: ErrBadSignature},
		{name: "another content type", ct: "text/html", want: ErrBadSignature},
		{name: "another size range", sizeRange: "1,1001", want: ErrBadSignature},
		{name: "another expiry", exp: "99999999999", want: ErrBadSignature},
		{name: "signature not hex", sig: "zz", want: ErrBadSignature},
		{name: "expired", now: up.ExpiresAt, want: ErrExpired},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			bucket, method, object, ct, sizeRange, exp, s, at := b.bucket, "PUT", "p1/ph 1", "image/jpeg", "1,1000", expires, sig, now
			if tc.bucket != nil {
				bucket = tc.bucket
			}
			for _, f := range []struct {
				to *string
				v  string
			}{{&method, tc.method}, {&object, tc.object}, {&ct, tc.ct}, {&sizeRange, tc.sizeRange}, {&exp, tc.exp}, {&s, tc.sig}} {
				if f.v != "" {
					*f.to = f.v
				}
			}
			if !tc.now.IsZero() {
				at = tc.now
			}
			if err := bucket.Check(method, object, ct, sizeRange, exp, s, at); !errors.Is(err, tc.want) {
				t.Errorf("Check: %v, want %v", err, tc.want)
			}
		})
	}
}

func TestOpen(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		cfg     func(dir string) config.Config
		wantErr string
	}{
		{name: "local", cfg: func(dir string) config.Config {
			return config.Config{StorageBackend: "local", StorageDir: dir, UploadsBucket: "up", PhotosBucket: "ph", StorageURL: "http://x", StorageSigningKey: string(testKey)}
		}},
		{name: "local without a key", cfg: func(dir string) config.Config {
			return config.Config{StorageBackend: "local", StorageDir: dir, UploadsBucket: "up", PhotosBucket: "ph"}
		}, wantErr: "STORAGE_SIGNING_KEY"},
		{name: "local with a short key", cfg: func(dir string) config.Config {
			return config.Config{StorageBackend: "local", StorageDir: dir, UploadsBucket: "up", PhotosBucket: "ph", StorageSigningKey: "short"}
		}, wantErr: "signing key"},
		{name: "unknown backend", cfg: func(string) config.Config { return config.Config{StorageBackend: "s3"} }, wantErr: "STORAGE_BACKEND"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			up, ph, err := Open(context.Background(), tc.cfg(t.TempDir()))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Errorf("Open: %v, want an error about %s", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			if up.Name() != "up" || ph.Name() != "ph" {
				t.Errorf("buckets %q, %q", up.Name(), ph.Name())
			}
		})
	}
}
