// Package objectstore stands in for Cloud Storage's XML endpoint on a local stack, over
// the local buckets (storage.Local): it takes the uploads of signed URLs, checking them
// as Cloud Storage checks its V4 signatures, serves the public buckets' objects to
// anyone, and announces each finished upload as a bucket notification would. With it
// the clients, the functions and the consumers run the same code locally as on GCP: a
// browser PUTs to the URL it was given and reads the photos from their public URLs.
//
// It is for the dev stack and the tests only: nothing on GCP serves it.
package objectstore

import (
	"context"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rs/cors"

	"github.com/8949market/market/shared/objectevent"
	"github.com/8949market/market/shared/storage"
)

// The CORS policy of the buckets, which the Terraform buckets' cors blocks repeat: pages
// of the allowed origins PUT their uploads with the signed headers and read the photos;
// no credentials, the signature is the authority.
var (
	// Methods are the methods a page may use.
	Methods = []string{http.MethodPut, http.MethodGet, http.MethodHead}
	// Headers are the request headers a page may send beyond the safelisted ones (Cloud
	// Storage's responseHeader, which it also exposes).
	Headers = []string{"Content-Type", storage.SizeHeader}
)

// MaxAge is how long a browser may reuse a preflight's answer, in seconds.
const MaxAge = 3600

// Options are what the stand-in serves.
type Options struct {
	// Buckets are the buckets served, at /<bucket>/<object>.
	Buckets []*storage.Local
	// Public names the buckets whose objects anyone may GET (the photos); the others
	// only take uploads.
	Public []string
	// Origins are the origins whose pages may upload and read (CORS).
	Origins []string
	// Notify announces a finished upload, of any bucket; the dev stack publishes it as
	// Cloud Storage would (objectevent.Attributes). When it fails the upload is undone
	// and answered 503, so the client retries. Nil announces nothing.
	Notify func(ctx context.Context, o objectevent.Object) error
}

type server struct {
	buckets map[string]*storage.Local
	public  map[string]bool
	notify  func(ctx context.Context, o objectevent.Object) error
}

// New returns the stand-in, serving /<bucket>/<object>: the caller mounts it where
// STORAGE_URL points, stripping the prefix (http.StripPrefix("/storage", ...)).
//
// A PUT must carry a signature of the bucket (storage.Local.SignUpload) for this object,
// its Content-Type and size range header exactly, before the deadline; its body must be
// within the range, and the object must not exist (the URL only creates, as Cloud
// Storage's objectCreator role). GET and HEAD serve the public buckets' objects with
// their Content-Type and Cache-Control. Refusals answer as Cloud Storage's XML API does.
func New(opts Options) http.Handler {
	s := &server{buckets: map[string]*storage.Local{}, public: map[string]bool{}, notify: opts.Notify}
	for _, b := range opts.Buckets {
		s.buckets[b.Name()] = b
	}
	for _, name := range opts.Public {
		s.public[name] = true
	}
	origins := slices.Clone(opts.Origins)
	c := cors.New(cors.Options{
		// A function, not AllowedOrigins: rs/cors reads an empty list as "every origin".
		AllowOriginFunc:  func(origin string) bool { return slices.Contains(origins, origin) },
		AllowedMethods:   Methods,
		AllowedHeaders:   Headers,
		ExposedHeaders:   Headers,
		MaxAge:           MaxAge,
		AllowCredentials: false,
	})
	return c.Handler(s)
}

func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// The path is the decoded one: an object name with an escaped slash or dot is the
	// same name unescaped, and ValidName refuses any that would leave the bucket.
	bucketName, object, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	b, ok := s.buckets[bucketName]
	if !ok {
		fail(w, http.StatusNotFound, "NoSuchBucket", "The specified bucket does not exist.")
		return
	}
	if !storage.ValidName(object) {
		fail(w, http.StatusBadRequest, "InvalidArgument", "Invalid object name.")
		return
	}
	switch r.Method {
	case http.MethodPut:
		s.upload(w, r, b, object)
	case http.MethodGet, http.MethodHead:
		s.serve(w, r, b, object)
	default:
		w.Header().Set("Allow", "PUT, GET, HEAD")
		fail(w, http.StatusMethodNotAllowed, "MethodNotAllowed", "The specified method is not allowed against this resource.")
	}
}

// upload takes the PUT of a signed URL.
func (s *server) upload(w http.ResponseWriter, r *http.Request, b *storage.Local, object string) {
	q := r.URL.Query()
	signature, expires := q.Get("X-Goog-Signature"), q.Get("X-Goog-Expires")
	if signature == "" || expires == "" {
		fail(w, http.StatusForbidden, "AccessDenied", "Anonymous caller does not have storage.objects.create access.")
		return
	}
	// One value each: a second Content-Type or range header would be read otherwise by
	// someone else.
	contentType, sizeRange := single(r.Header, "Content-Type"), single(r.Header, storage.SizeHeader)
	err := b.Check(http.MethodPut, object, contentType, sizeRange, expires, signature, time.Now())
	switch {
	case errors.Is(err, storage.ErrExpired):
		fail(w, http.StatusBadRequest, "ExpiredToken", "Request has expired")
		return
	case err != nil:
		fail(w, http.StatusForbidden, "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided.")
		return
	}
	minSize, maxSize, ok := parseRange(sizeRange)
	if !ok {
		fail(w, http.StatusBadRequest, "InvalidArgument", "Invalid "+storage.SizeHeader+" header.")
		return
	}
	if r.ContentLength > maxSize {
		fail(w, http.StatusBadRequest, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size.")
		return
	}
	if r.ContentLength >= 0 && r.ContentLength < minSize {
		fail(w, http.StatusBadRequest, "EntityTooSmall", "Your proposed upload is smaller than the minimum allowed size.")
		return
	}
	// At most one byte more than allowed, whatever the body claims to be.
	data, err := io.ReadAll(io.LimitReader(r.Body, maxSize+1))
	if err != nil {
		fail(w, http.StatusBadRequest, "InvalidArgument", "The request body could not be read.")
		return
	}
	if int64(len(data)) > maxSize {
		fail(w, http.StatusBadRequest, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size.")
		return
	}
	if int64(len(data)) < minSize {
		fail(w, http.StatusBadRequest, "EntityTooSmall", "Your proposed upload is smaller than the minimum allowed size.")
		return
	}
	attrs, err := b.Create(r.Context(), object, data, storage.Meta{ContentType: contentType})
	switch {
	case errors.Is(err, storage.ErrExist):
		fail(w, http.StatusForbidden, "AccessDenied", "The caller does not have storage.objects.delete access to the existing object.")
		return
	case err != nil:
		fail(w, http.StatusInternalServerError, "InternalError", "The object could not be stored.")
		return
	}
	if s.notify != nil {
		o := objectevent.Object{
			Bucket:      b.Name(),
			Name:        object,
			Generation:  strconv.FormatInt(attrs.Generation, 10),
			ContentType: attrs.ContentType,
			Size:        strconv.FormatInt(attrs.Size, 10),
			TimeCreated: attrs.Created,
		}
		if err := s.notify(r.Context(), o); err != nil {
			// Unannounced, the upload would wait for nobody: undo it, so that the
			// client's retry creates and announces it again.
			_ = b.Delete(context.WithoutCancel(r.Context()), object)
			w.Header().Set("Retry-After", "1")
			fail(w, http.StatusServiceUnavailable, "ServiceUnavailable", "The upload could not be announced; retry.")
			return
		}
	}
	w.Header().Set("ETag", `"`+attrs.MD5+`"`)
	w.Header().Set("X-Goog-Generation", strconv.FormatInt(attrs.Generation, 10))
	w.WriteHeader(http.StatusOK)
}

// single is the header's value when it has exactly one, else "".
func single(h http.Header, name string) string {
	if v := h.Values(name); len(v) == 1 {
		return v[0]
	}
	return ""
}

// parseRange reads a size range header, "min,max" in bytes.
func parseRange(s string) (minSize, maxSize int64, ok bool) {
	lo, hi, found := strings.Cut(s, ",")
	if !found {
		return 0, 0, false
	}
	minSize, err1 := strconv.ParseInt(lo, 10, 64)
	maxSize, err2 := strconv.ParseInt(hi, 10, 64)
	if err1 != nil || err2 != nil || minSize < 0 || maxSize < minSize {
		return 0, 0, false
	}
	return minSize, maxSize, true
}

// serve answers a GET or HEAD of a public bucket's object.
func (s *server) serve(w http.ResponseWriter, r *http.Request, b *storage.Local, object string) {
	if !s.public[b.Name()] {
		fail(w, http.StatusForbidden, "AccessDenied", "Anonymous caller does not have storage.objects.get access.")
		return
	}
	f, attrs, err := b.Open(object)
	switch {
	case errors.Is(err, storage.ErrNotExist):
		fail(w, http.StatusNotFound, "NoSuchKey", "The specified key does not exist.")
		return
	case err != nil:
		fail(w, http.StatusInternalServerError, "InternalError", "The object could not be read.")
		return
	}
	defer f.Close()
	h := w.Header()
	h.Set("Content-Type", attrs.ContentType)
	if attrs.CacheControl != "" {
		h.Set("Cache-Control", attrs.CacheControl)
	}
	etag := attrs.MD5
	if etag == "" {
		etag = strconv.FormatInt(attrs.Generation, 10)
	}
	h.Set("ETag", `"`+etag+`"`)
	h.Set("X-Goog-Generation", strconv.FormatInt(attrs.Generation, 10))
	h.Set("X-Content-Type-Options", "nosniff")
	http.ServeContent(w, r, "", attrs.Created, f)
}

// fail answers as Cloud Storage's XML API: the status and an Error document.
func fail(w http.ResponseWriter, status int, code, message string) {
	var msg strings.Builder
	_ = xml.EscapeText(&msg, []byte(message))
	h := w.Header()
	h.Del("ETag")
	h.Del("Cache-Control")
	h.Set("Content-Type", "application/xml; charset=UTF-8")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, "<?xml version='1.0' encoding='UTF-8'?><Error><Code>"+code+"</Code><Message>"+msg.String()+"</Message></Error>")
}
