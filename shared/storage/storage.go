// Package storage keeps the platform's files: the clients' uploads and the processed
// photos, each in a bucket. A client never sends bytes through a function: it asks for a
// signed upload URL (SignUpload) that lets it PUT one object, of one content type and at
// most a given size, before a deadline, and the bucket announces the object once it is
// complete (a Cloud Storage notification, shared/objectevent).
//
// Two backends implement Bucket: GCS (Cloud Storage through cloud.google.com/go/storage,
// V4 signed URLs signed by the service account through the IAM Credentials API, no key
// file) and Local (a directory, with URLs signed by an HMAC key that the local stand-in,
// shared/devstack/objectstore, checks as Cloud Storage checks its own). Everything above
// Bucket runs the same code on both; Open picks the configured one.
package storage

import (
	"context"
	"errors"
	"time"
)

// Bucket is one bucket of the platform.
type Bucket interface {
	// Name is the bucket's name.
	Name() string
	// SignUpload returns a URL that lets its holder PUT object once, with exactly
	// contentType and a body of 1 to maxBytes bytes, until ttl has passed. The object's
	// name, the content type and the size range are inside the signature: the URL is good
	// for nothing else.
	SignUpload(ctx context.Context, object, contentType string, maxBytes int64, ttl time.Duration) (SignedUpload, error)
	// Read returns the object's bytes: ErrNotExist when there is none, ErrTooLarge when
	// it holds more than limit bytes (nothing more is read).
	Read(ctx context.Context, object string, limit int64) ([]byte, error)
	// Write stores data as object with its content type and Cache-Control, replacing any
	// object of that name.
	Write(ctx context.Context, object string, data []byte, meta Meta) error
	// Delete removes the object; one that does not exist is no error.
	Delete(ctx context.Context, object string) error
}

// Both backends are Buckets.
var (
	_ Bucket = (*GCS)(nil)
	_ Bucket = (*Local)(nil)
)

// SignedUpload is how a client uploads: a PUT to URL with Headers, exactly, before
// ExpiresAt.
type SignedUpload struct {
	URL       string            `json:"url"`
	Method    string            `json:"method"`
	Headers   map[string]string `json:"headers"`
	ExpiresAt time.Time         `json:"expiresAt"`
}

// Meta is what an object is served with.
type Meta struct {
	ContentType  string
	CacheControl string
}

// Errors of Read.
var (
	ErrNotExist = errors.New("storage: object does not exist")
	ErrTooLarge = errors.New("storage: object is larger than the limit")
)

// SizeHeader is the header that binds an upload's size range, "min,max" in bytes: Cloud
// Storage's own (XML API), which the local stand-in honours alike.
const SizeHeader = "x-goog-content-length-range"
