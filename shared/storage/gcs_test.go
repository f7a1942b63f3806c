package storage

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	gcs "cloud.google.com/go/storage"
	"github.com/fsouza/fake-gcs-server/fakestorage"
	"google.golang.org/api/option"
)

type gcsBundle struct {
	server *fakestorage.Server
	bucket *GCS
}

// setupGCS starts an in-process fake Cloud Storage with an empty bucket "photos".
func setupGCS(t *testing.T) gcsBundle {
	t.Helper()
	server, err := fakestorage.NewServerWithOptions(fakestorage.Options{NoListener: true})
	if err != nil {
		t.Fatalf("fake GCS: %v", err)
	}
	t.Cleanup(server.Stop)
	server.CreateBucketWithOpts(fakestorage.CreateBucketOpts{Name: "photos"})
	return gcsBundle{server: server, bucket: NewGCS(server.Client(), "photos", "")}
}

func TestGCSReadWriteDelete(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	meta := Meta{ContentType: "image/webp", CacheControl: "public, max-age=31536000, immutable"}

	t.Run("write then read", func(t *testing.T) {
		t.Parallel()
		b := setupGCS(t)
		if err := b.bucket.Write(ctx, "p1/ph1.webp", []byte("photo"), meta); err != nil {
			t.Fatalf("Write: %v", err)
		}
		got, err := b.bucket.Read(ctx, "p1/ph1.webp", 5)
		if err != nil || string(got) != "photo" {
			t.Fatalf("Read: %q, %v", got, err)
		}
		o, err := b.server.GetObject("photos", "p1/ph1.webp")
		if err != nil {
			t.Fatalf("GetObject: %v", err)
		}
		if o.ContentType != meta.ContentType || o.CacheControl != meta.CacheControl {
			t.Errorf("stored with %q, %q; want %q, %q", o.ContentType, o.CacheControl, meta.ContentType, meta.CacheControl)
		}
		if err := b.bucket.Write(ctx, "p1/ph1.webp", []byte("other"), meta); err != nil {
			t.Fatalf("Write again: %v", err)
		}
		if got, err := b.bucket.Read(ctx, "p1/ph1.webp", 5); err != nil || string(got) != "other" {
			t.Errorf("Read after a replacing Write: %q, %v", got, err)
		}
	})
	t.Run("delete", func(t *testing.T) {
		t.Parallel()
		b := setupGCS(t)
		if err := b.bucket.Write(ctx, "a", []byte("x"), meta); err != nil {
			t.Fatal(err)
		}
		if err := b.bucket.Delete(ctx, "a"); err != nil {
			t.Fatalf("Delete: %v", err)
		}
		if _, err := b.bucket.Read(ctx, "a", 10); !errors.Is(err, ErrNotExist) {
			t.Errorf("Read after Delete: %v, want ErrNotExist", err)
		}
		if err := b.bucket.Delete(ctx, "a"); err != nil {
			t.Errorf("Delete of a missing object: %v", err)
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
			b := setupGCS(t)
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

// signedRequest is what a client sends with a signed URL: the parts a V4 signature covers.
type signedRequest struct {
	method, path, contentType, sizeRange string
}

// verifyV4 checks the V4 signature of rawURL against req as Cloud Storage does: it
// rebuilds the canonical request from req and the URL's query (less the signature), then
// the string to sign, and verifies the signature with pub.
func verifyV4(rawURL string, req signedRequest, pub *rsa.PublicKey) error {
	u, err := url.Parse(rawURL)
	if err != nil {
		return err
	}
	q := u.Query()
	sig, err := hex.DecodeString(q.Get("X-Goog-Signature"))
	if err != nil {
		return fmt.Errorf("signature: %w", err)
	}
	q.Del("X-Goog-Signature")
	values := map[string]string{
		"host":                        u.Host,
		"content-type":                req.contentType,
		"x-goog-content-length-range": req.sizeRange,
	}
	signed := strings.Split(q.Get("X-Goog-SignedHeaders"), ";")
	sort.Strings(signed)
	var headers []string
	for _, name := range signed {
		v, ok := values[name]
		if !ok {
			return fmt.Errorf("unexpected signed header %q", name)
		}
		headers = append(headers, name+":"+v)
	}
	canonical := strings.Join([]string{
		req.method,
		req.path,
		strings.ReplaceAll(q.Encode(), "+", "%20"),
		strings.Join(headers, "\n") + "\n",
		strings.Join(signed, ";"),
		"UNSIGNED-PAYLOAD",
	}, "\n")
	digest := sha256.Sum256([]byte(canonical))
	credential := q.Get("X-Goog-Credential")
	_, scope, _ := strings.Cut(credential, "/")
	toSign := strings.Join([]string{"GOOG4-RSA-SHA256", q.Get("X-Goog-Date"), scope, hex.EncodeToString(digest[:])}, "\n")
	sum := sha256.Sum256([]byte(toSign))
	return rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], sig)
}

func TestGCSSignUpload(t *testing.T) {
	t.Parallel()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	client, err := gcs.NewClient(context.Background(), option.WithoutAuthentication())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	const signer = "uploads-signer@market-dev.iam.gserviceaccount.com"
	bucket := newGCSWithKey(client, "market-uploads", signer, keyPEM)

	before := time.Now()
	up, err := bucket.SignUpload(context.Background(), "p1/ph1", "image/jpeg", 10<<20, 15*time.Minute)
	if err != nil {
		t.Fatalf("SignUpload: %v", err)
	}
	if up.Method != "PUT" || up.Headers["Content-Type"] != "image/jpeg" || up.Headers[SizeHeader] != "1,10485760" || len(up.Headers) != 2 {
		t.Errorf("SignUpload: method %q, headers %v", up.Method, up.Headers)
	}
	if d := up.ExpiresAt.Sub(before); d < 15*time.Minute-2*time.Second || d > 15*time.Minute+time.Second {
		t.Errorf("expires in %v, want 15m", d)
	}
	u, err := url.Parse(up.URL)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	if u.Host != "storage.googleapis.com" || u.Path != "/market-uploads/p1/ph1" || !strings.HasPrefix(q.Get("X-Goog-Credential"), signer+"/") ||
		q.Get("X-Goog-SignedHeaders") != "content-type;host;x-goog-content-length-range" || (q.Get("X-Goog-Expires") != "900" && q.Get("X-Goog-Expires") != "899") {
		t.Errorf("URL %s", up.URL)
	}

	date, err := time.Parse("20060102T150405Z", q.Get("X-Goog-Date"))
	if err != nil {
		t.Fatal(err)
	}
	if seconds, _ := strconv.Atoi(q.Get("X-Goog-Expires")); !up.ExpiresAt.Equal(date.Add(time.Duration(seconds) * time.Second)) {
		t.Errorf("ExpiresAt %v, the URL's deadline %v + %ss", up.ExpiresAt, date, q.Get("X-Goog-Expires"))
	}

	good := signedRequest{method: "PUT", path: "/market-uploads/p1/ph1", contentType: "image/jpeg", sizeRange: "1,10485760"}
	if err := verifyV4(up.URL, good, &key.PublicKey); err != nil {
		t.Fatalf("the signature does not verify for the request it was made for: %v", err)
	}
	for _, tc := range []struct {
		name   string
		change func(r *signedRequest)
	}{
		{name: "another object", change: func(r *signedRequest) { r.path = "/market-uploads/p1/ph2" }},
		{name: "another bucket", change: func(r *signedRequest) { r.path = "/market-photos/p1/ph1" }},
		{name: "another content type", change: func(r *signedRequest) { r.contentType = "text/html" }},
		{name: "another size range", change: func(r *signedRequest) { r.sizeRange = "1,1073741824" }},
		{name: "no size range", change: func(r *signedRequest) { r.sizeRange = "" }},
		{name: "another method", change: func(r *signedRequest) { r.method = "DELETE" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			req := good
			tc.change(&req)
			if err := verifyV4(up.URL, req, &key.PublicKey); err == nil {
				t.Errorf("the signature verifies for %+v", req)
			}
		})
	}
	t.Run("another expiry", func(t *testing.T) {
		t.Parallel()
		longer, _ := url.Parse(up.URL)
		lq := longer.Query()
		lq.Set("X-Goog-Expires", "604800")
		longer.RawQuery = lq.Encode()
		if err := verifyV4(longer.String(), good, &key.PublicKey); err == nil {
			t.Error("the signature verifies with a longer expiry")
		}
	})
	t.Run("not positive maxBytes", func(t *testing.T) {
		t.Parallel()
		if _, err := bucket.SignUpload(context.Background(), "p1/ph1", "image/jpeg", 0, time.Minute); err == nil {
			t.Error("SignUpload with maxBytes 0: no error")
		}
	})
}
