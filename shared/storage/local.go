package storage

import (
	"context"
	"crypto/hmac"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Errors of the local backend's stand-in: why an upload is refused.
var (
	// ErrExist: the object exists, and an upload URL only creates (as Cloud Storage's
	// objectCreator role).
	ErrExist = errors.New("storage: object exists")
	// ErrBadSignature: the URL's signature does not cover this request.
	ErrBadSignature = errors.New("storage: signature does not match")
	// ErrExpired: the URL's deadline has passed.
	ErrExpired = errors.New("storage: signed URL has expired")
	// ErrInvalidName: not an object name the local backend keeps (ValidName).
	ErrInvalidName = errors.New("storage: invalid object name")
)

// Local is a bucket kept in a directory, for the local stack: dir/<bucket>/objects/<name>
// holds an object's bytes, dir/<bucket>/meta/<name>.json what it is served with. Several
// processes of a local stack share the directory, so each file is written whole under
// dir/<bucket>/tmp (the same file system) and renamed into place: a reader sees the old
// file or the new one, never a part. An object is there once both files are.
//
// Every path goes through an os.Root of dir/<bucket> besides the name checks (ValidName):
// no name, link or race reaches a file outside it.
//
// Its upload URLs point at the stand-in for Cloud Storage's endpoint
// (shared/devstack/objectstore) and are signed with an HMAC key over what a V4 signature
// binds: method, bucket, object, content type, size range and deadline (Check).
type Local struct {
	name    string
	baseURL string
	key     []byte
	root    *os.Root
}

// ObjectAttrs is what the local backend keeps of an object beside its bytes.
type ObjectAttrs struct {
	ContentType  string    `json:"contentType"`
	CacheControl string    `json:"cacheControl,omitempty"`
	Size         int64     `json:"size"`
	Generation   int64     `json:"generation"`
	Created      time.Time `json:"created"`
	// MD5 is the bytes' MD5, hex: the ETag Cloud Storage gives an object uploaded whole.
	MD5 string `json:"md5,omitempty"`
}

// MinKeyLen is the shortest signing key NewLocal takes, in bytes: HMAC-SHA256's own size.
const MinKeyLen = 32

// NewLocal returns bucket kept under dir, its upload URLs under baseURL (the stand-in's
// address, STORAGE_URL) signed with key.
func NewLocal(dir, bucket, baseURL string, key []byte) (*Local, error) {
	if len(key) < MinKeyLen {
		return nil, fmt.Errorf("local bucket %q: the signing key has %d bytes, at least %d needed", bucket, len(key), MinKeyLen)
	}
	if bucket == "" || bucket == "." || bucket == ".." || strings.ContainsAny(bucket, `/\`) || !printable(bucket) {
		return nil, fmt.Errorf("local bucket %q: invalid bucket name", bucket)
	}
	base := filepath.Join(dir, bucket)
	for _, sub := range []string{"objects", "meta", "tmp"} {
		if err := os.MkdirAll(filepath.Join(base, sub), 0o755); err != nil {
			return nil, fmt.Errorf("local bucket %q: %w", bucket, err)
		}
	}
	root, err := os.OpenRoot(base)
	if err != nil {
		return nil, fmt.Errorf("local bucket %q: %w", bucket, err)
	}
	return &Local{name: bucket, baseURL: strings.TrimSuffix(baseURL, "/"), key: append([]byte(nil), key...), root: root}, nil
}

// Name is the bucket's name.
func (l *Local) Name() string { return l.name }

// ValidName says whether object is a name the local backend keeps: 1 to 1024 bytes of
// UTF-8 (Cloud Storage's limit), no control character or backslash, and made of
// non-empty "/"-separated segments none of which is "." or "..". Cloud Storage takes
// more, but every name the platform makes ("<productId>/<photoId>") is one of these, and
// none of them leaves the bucket's directory.
func ValidName(object string) bool {
	if len(object) == 0 || len(object) > 1024 || !utf8.ValidString(object) || !printable(object) || strings.Contains(object, `\`) {
		return false
	}
	for seg := range strings.SplitSeq(object, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return false
		}
	}
	return true
}

// printable says whether s has no control character.
func printable(s string) bool {
	return !strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) })
}

// SignUpload returns a URL of the stand-in, <baseURL>/<bucket>/<object>, with its deadline
// (X-Goog-Expires, Unix seconds) and signature (X-Goog-Signature, Check).
func (l *Local) SignUpload(_ context.Context, object, contentType string, maxBytes int64, ttl time.Duration) (SignedUpload, error) {
	if !ValidName(object) {
		return SignedUpload{}, fmt.Errorf("sign upload of %s/%q: %w", l.name, object, ErrInvalidName)
	}
	if maxBytes < 1 {
		return SignedUpload{}, fmt.Errorf("sign upload of %s/%s: maxBytes %d is not positive", l.name, object, maxBytes)
	}
	if contentType == "" || !printable(contentType) {
		return SignedUpload{}, fmt.Errorf("sign upload of %s/%s: invalid content type %q", l.name, object, contentType)
	}
	sizeRange := "1," + strconv.FormatInt(maxBytes, 10)
	expiresAt := time.Now().Add(ttl).Truncate(time.Second).UTC()
	expires := strconv.FormatInt(expiresAt.Unix(), 10)
	q := url.Values{
		"X-Goog-Expires":   {expires},
		"X-Goog-Signature": {l.sign("PUT", object, contentType, sizeRange, expires)},
	}
	return SignedUpload{
		URL:       l.baseURL + "/" + url.PathEscape(l.name) + "/" + escapePath(object) + "?" + q.Encode(),
		Method:    "PUT",
		Headers:   map[string]string{"Content-Type": contentType, SizeHeader: sizeRange},
		ExpiresAt: expiresAt,
	}, nil
}

// escapePath escapes each segment of object, keeping its slashes.
func escapePath(object string) string {
	segs := strings.Split(object, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return strings.Join(segs, "/")
}

// sign is the hex HMAC-SHA256 of the fields, each written with its length before it so
// that no two lists of fields make the same string.
func (l *Local) sign(method, object, contentType, sizeRange, expires string) string {
	m := hmac.New(sha256.New, l.key)
	for _, f := range []string{"GOOG-LOCAL-HMAC-SHA256", method, l.name, object, contentType, sizeRange, expires} {
		fmt.Fprintf(m, "%d:%s\n", len(f), f)
	}
	return hex.EncodeToString(m.Sum(nil))
}

// Check says whether a request is one a URL of SignUpload allows: signature, the hex
// X-Goog-Signature, covers method, this bucket, object, contentType (the request's
// Content-Type) and sizeRange (its SizeHeader) with deadline expires (X-Goog-Expires),
// and now is before it. It answers ErrBadSignature or ErrExpired (as Cloud Storage checks
// the signature first); the comparison takes constant time.
func (l *Local) Check(method, object, contentType, sizeRange, expires, signature string, now time.Time) error {
	got, err := hex.DecodeString(signature)
	if err != nil {
		return fmt.Errorf("check %s/%s: %w", l.name, object, ErrBadSignature)
	}
	want, _ := hex.DecodeString(l.sign(method, object, contentType, sizeRange, expires))
	if !hmac.Equal(got, want) {
		return fmt.Errorf("check %s/%s: %w", l.name, object, ErrBadSignature)
	}
	deadline, err := strconv.ParseInt(expires, 10, 64)
	if err != nil {
		return fmt.Errorf("check %s/%s: %w", l.name, object, ErrBadSignature)
	}
	if !now.Before(time.Unix(deadline, 0)) {
		return fmt.Errorf("check %s/%s: deadline %s: %w", l.name, object, time.Unix(deadline, 0).UTC().Format(time.RFC3339), ErrExpired)
	}
	return nil
}

// Read returns the object's bytes, reading at most limit+1 of them.
func (l *Local) Read(_ context.Context, object string, limit int64) ([]byte, error) {
	f, attrs, err := l.Open(object)
	if err != nil {
		return nil, fmt.Errorf("read: %w", err)
	}
	defer f.Close()
	if attrs.Size > limit {
		return nil, fmt.Errorf("read %s/%s: %d bytes, limit %d: %w", l.name, object, attrs.Size, limit, ErrTooLarge)
	}
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read %s/%s: %w", l.name, object, err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("read %s/%s: more than %d bytes: %w", l.name, object, limit, ErrTooLarge)
	}
	return data, nil
}

// Open opens the object's bytes for reading, with its attributes: ErrNotExist when it is
// not there, ErrInvalidName for a name ValidName refuses. The caller closes the file.
func (l *Local) Open(object string) (*os.File, ObjectAttrs, error) {
	if !ValidName(object) {
		return nil, ObjectAttrs{}, fmt.Errorf("open %s/%q: %w", l.name, object, ErrInvalidName)
	}
	attrs, err := l.attrs(object)
	if err != nil {
		return nil, ObjectAttrs{}, err
	}
	f, err := l.root.Open(path.Join("objects", object))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ObjectAttrs{}, fmt.Errorf("open %s/%s: %w", l.name, object, ErrNotExist)
	}
	if err != nil {
		return nil, ObjectAttrs{}, fmt.Errorf("open %s/%s: %w", l.name, object, err)
	}
	// A replacing write may land between the two files: the size is the bytes'.
	if st, err := f.Stat(); err == nil {
		attrs.Size = st.Size()
	}
	return f, attrs, nil
}

// attrs reads the object's metadata: the object is there when it is.
func (l *Local) attrs(object string) (ObjectAttrs, error) {
	b, err := l.root.ReadFile(metaPath(object))
	if errors.Is(err, fs.ErrNotExist) {
		return ObjectAttrs{}, fmt.Errorf("open %s/%s: %w", l.name, object, ErrNotExist)
	}
	if err != nil {
		return ObjectAttrs{}, fmt.Errorf("open %s/%s: %w", l.name, object, err)
	}
	var attrs ObjectAttrs
	if err := json.Unmarshal(b, &attrs); err != nil {
		return ObjectAttrs{}, fmt.Errorf("open %s/%s: metadata: %w", l.name, object, err)
	}
	return attrs, nil
}

func metaPath(object string) string { return path.Join("meta", object) + ".json" }

// Write stores data as object, replacing any object of that name.
func (l *Local) Write(_ context.Context, object string, data []byte, meta Meta) error {
	_, err := l.put(object, data, meta, false)
	return err
}

// Create stores data as a new object, as an upload URL does: ErrExist when the object is
// there already. Of two processes creating the same object at once, one wins.
func (l *Local) Create(_ context.Context, object string, data []byte, meta Meta) (ObjectAttrs, error) {
	return l.put(object, data, meta, true)
}

// put writes the bytes and the metadata, each whole under tmp and moved into place;
// create refuses a name that is taken.
func (l *Local) put(object string, data []byte, meta Meta, create bool) (ObjectAttrs, error) {
	if !ValidName(object) {
		return ObjectAttrs{}, fmt.Errorf("write %s/%q: %w", l.name, object, ErrInvalidName)
	}
	now := time.Now().UTC()
	attrs := ObjectAttrs{
		ContentType:  meta.ContentType,
		CacheControl: meta.CacheControl,
		Size:         int64(len(data)),
		Generation:   now.UnixMicro(),
		Created:      now,
		MD5:          fmt.Sprintf("%x", md5.Sum(data)),
	}
	metaJSON, err := json.Marshal(attrs)
	if err != nil {
		return ObjectAttrs{}, fmt.Errorf("write %s/%s: %w", l.name, object, err)
	}
	dataTmp, err := l.temp(data)
	if err != nil {
		return ObjectAttrs{}, fmt.Errorf("write %s/%s: %w", l.name, object, err)
	}
	// Gone once moved into place; still there after a failure.
	defer func() { _ = l.root.Remove(dataTmp) }()
	metaTmp, err := l.temp(metaJSON)
	if err != nil {
		return ObjectAttrs{}, fmt.Errorf("write %s/%s: %w", l.name, object, err)
	}
	defer func() { _ = l.root.Remove(metaTmp) }()

	dataFile, metaFile := path.Join("objects", object), metaPath(object)
	for _, p := range []string{dataFile, metaFile} {
		if err := l.root.MkdirAll(path.Dir(p), 0o755); err != nil {
			return ObjectAttrs{}, fmt.Errorf("write %s/%s: %w", l.name, object, err)
		}
	}
	if create {
		// The metadata says whether an object is there, so it is the name's claim: a
		// hard link, which fails when the name is taken where a rename would replace.
		// The bytes follow, replacing any a crash left without metadata; until they
		// are there, Open finds no object.
		if err := l.root.Link(metaTmp, metaFile); err != nil {
			if errors.Is(err, fs.ErrExist) {
				return ObjectAttrs{}, fmt.Errorf("create %s/%s: %w", l.name, object, ErrExist)
			}
			return ObjectAttrs{}, fmt.Errorf("create %s/%s: %w", l.name, object, err)
		}
		if err := l.root.Rename(dataTmp, dataFile); err != nil {
			_ = l.root.Remove(metaFile)
			return ObjectAttrs{}, fmt.Errorf("create %s/%s: %w", l.name, object, err)
		}
		return attrs, nil
	}
	// Bytes first, then the metadata that makes them an object.
	if err := l.root.Rename(dataTmp, dataFile); err != nil {
		return ObjectAttrs{}, fmt.Errorf("write %s/%s: %w", l.name, object, err)
	}
	if err := l.root.Rename(metaTmp, metaFile); err != nil {
		return ObjectAttrs{}, fmt.Errorf("write %s/%s: %w", l.name, object, err)
	}
	return attrs, nil
}

// temp writes data to a new file under tmp and returns its path in the root.
func (l *Local) temp(data []byte) (string, error) {
	p := path.Join("tmp", rand.Text())
	f, err := l.root.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return "", err
	}
	if _, err := f.Write(data); err != nil {
		_ = f.Close()
		_ = l.root.Remove(p)
		return "", err
	}
	if err := f.Close(); err != nil {
		_ = l.root.Remove(p)
		return "", err
	}
	return p, nil
}

// Delete removes the object: its metadata first, so it is gone at once.
func (l *Local) Delete(_ context.Context, object string) error {
	if !ValidName(object) {
		return fmt.Errorf("delete %s/%q: %w", l.name, object, ErrInvalidName)
	}
	for _, p := range []string{metaPath(object), path.Join("objects", object)} {
		if err := l.root.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("delete %s/%s: %w", l.name, object, err)
		}
	}
	return nil
}
