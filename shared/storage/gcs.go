package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"time"

	gcs "cloud.google.com/go/storage"
)

// GCS is a Cloud Storage bucket.
//
// Its upload URLs are V4 signed URLs. With no private key (there is no key file on the
// platform), cloud.google.com/go/storage (v1.71.0, BucketHandle.SignedURL) signs through
// the IAM Credentials API's signBlob, called with the process's own credentials: on Cloud
// Run, the metadata server's token of the service account the service runs as. The
// account named in the URL (GoogleAccessID) is the signer when one is configured; without
// one the library takes client_email from the credentials' JSON when there is one, and
// on Cloud Run (OnGCE: the metadata server answers) the metadata server's default
// service account email. Either way the project needs the IAM Service Account
// Credentials API (iamcredentials.googleapis.com), the runtime account needs
// roles/iam.serviceAccountTokenCreator on the signing account (itself included), and the
// signing account needs to be allowed to create objects in the bucket: a signed URL acts
// with its signer's permissions.
type GCS struct {
	bucket *gcs.BucketHandle
	name   string
	signer string
	// key signs in place of the IAM Credentials API: only the tests set it
	// (newGCSWithKey), to check the signature they get.
	key []byte
}

// NewGCS returns the bucket through client. signer is the service account that signs
// upload URLs; empty means the account the process runs as.
func NewGCS(client *gcs.Client, bucket, signer string) *GCS {
	return &GCS{bucket: client.Bucket(bucket), name: bucket, signer: signer}
}

// newGCSWithKey is NewGCS signing with a private key (PEM) of signer: the tests verify
// the V4 signature with its public half.
func newGCSWithKey(client *gcs.Client, bucket, signer string, key []byte) *GCS {
	g := NewGCS(client, bucket, signer)
	g.key = key
	return g
}

// Name is the bucket's name.
func (g *GCS) Name() string { return g.name }

// SignUpload returns a V4 signed URL for a PUT of object. The content type and the size
// range header (SizeHeader: Cloud Storage refuses a body outside it) are signed headers,
// the object is the signed path: changing any of them breaks the signature.
func (g *GCS) SignUpload(_ context.Context, object, contentType string, maxBytes int64, ttl time.Duration) (SignedUpload, error) {
	if maxBytes < 1 {
		return SignedUpload{}, fmt.Errorf("sign upload of gs://%s/%s: maxBytes %d is not positive", g.name, object, maxBytes)
	}
	sizeRange := "1," + strconv.FormatInt(maxBytes, 10)
	expires := time.Now().Add(ttl)
	opts := &gcs.SignedURLOptions{
		Scheme:         gcs.SigningSchemeV4,
		Method:         "PUT",
		ContentType:    contentType,
		Headers:        []string{SizeHeader + ":" + sizeRange},
		Expires:        expires,
		GoogleAccessID: g.signer,
		PrivateKey:     g.key,
	}
	u, err := g.bucket.SignedURL(object, opts)
	if err != nil {
		return SignedUpload{}, fmt.Errorf("sign upload of gs://%s/%s: %w", g.name, object, err)
	}
	return SignedUpload{
		URL:       u,
		Method:    "PUT",
		Headers:   map[string]string{"Content-Type": contentType, SizeHeader: sizeRange},
		ExpiresAt: deadline(u, expires),
	}, nil
}

// deadline is when the signed URL u expires: its X-Goog-Date plus X-Goog-Expires
// seconds, which the library counts down from its own clock, a little under the
// expires it was given. Unreadable, it is expires.
func deadline(u string, expires time.Time) time.Time {
	parsed, err := url.Parse(u)
	if err != nil {
		return expires.UTC()
	}
	q := parsed.Query()
	date, err := time.Parse("20060102T150405Z", q.Get("X-Goog-Date"))
	if err != nil {
		return expires.UTC()
	}
	seconds, err := strconv.Atoi(q.Get("X-Goog-Expires"))
	if err != nil {
		return expires.UTC()
	}
	return date.Add(time.Duration(seconds) * time.Second)
}

// Read returns the object's bytes, reading at most limit+1 of them.
func (g *GCS) Read(ctx context.Context, object string, limit int64) ([]byte, error) {
	r, err := g.bucket.Object(object).NewReader(ctx)
	if errors.Is(err, gcs.ErrObjectNotExist) {
		return nil, fmt.Errorf("read gs://%s/%s: %w", g.name, object, ErrNotExist)
	}
	if err != nil {
		return nil, fmt.Errorf("read gs://%s/%s: %w", g.name, object, err)
	}
	defer r.Close()
	if r.Attrs.Size > limit {
		return nil, fmt.Errorf("read gs://%s/%s: %d bytes, limit %d: %w", g.name, object, r.Attrs.Size, limit, ErrTooLarge)
	}
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read gs://%s/%s: %w", g.name, object, err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("read gs://%s/%s: more than %d bytes: %w", g.name, object, limit, ErrTooLarge)
	}
	return data, nil
}

// Write stores data as object in one request (no resumable upload: the platform's
// objects are small).
func (g *GCS) Write(ctx context.Context, object string, data []byte, meta Meta) error {
	// Cancelling the writer's context is how an upload is abandoned without an object.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	w := g.bucket.Object(object).NewWriter(ctx)
	w.ContentType = meta.ContentType
	w.CacheControl = meta.CacheControl
	w.ChunkSize = 0
	if _, err := w.Write(data); err != nil {
		cancel()
		_ = w.Close()
		return fmt.Errorf("write gs://%s/%s: %w", g.name, object, err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("write gs://%s/%s: %w", g.name, object, err)
	}
	return nil
}

// Delete removes the object; one that does not exist is no error.
func (g *GCS) Delete(ctx context.Context, object string) error {
	err := g.bucket.Object(object).Delete(ctx)
	if err != nil && !errors.Is(err, gcs.ErrObjectNotExist) {
		return fmt.Errorf("delete gs://%s/%s: %w", g.name, object, err)
	}
	return nil
}
