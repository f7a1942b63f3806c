// Package apidocs is the browsable API reference: Swagger UI over the OpenAPI document
// that make openapi generates from the registry (openapi.json), embedded in the binary
// with the page, so the reference is the build's own and nothing is fetched at run time.
// Swagger UI is vendored from the npm package swagger-ui-dist into ui/ by
// scripts/swagger-ui.sh (ui/VERSION says which). The function platform-docs serves the
// files at /api/v1/docs/{file}; make dev also redirects /docs to the page.
package apidocs

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

//go:embed openapi.json index.html docs.css swagger-initializer.js
//go:embed ui/swagger-ui-bundle.js ui/swagger-ui.css ui/favicon-16x16.png ui/favicon-32x32.png
var embedded embed.FS

// Page and Document name the reference's page and its OpenAPI document among the files.
const (
	Page     = "index.html"
	Document = "openapi.json"
)

// PageCSP is the page's Content-Security-Policy, in place of the API's default-src 'none':
// scripts, styles and images of the origin only, no inline script (the initializer is a
// file of its own); inline styles because Swagger UI sets style attributes in the markup
// it renders (issues swagger-api/swagger-ui#3370 and #10655); data: images for the icons
// its stylesheet inlines; fetches to the origin only, for the document and "Try it out".
// The page still cannot be framed.
const PageCSP = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; " +
	"img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

// sources are the files served, by the name they are served under: the page's own and
// the vendored Swagger UI (ui/).
var sources = map[string]struct {
	path, contentType string
}{
	Page:                     {"index.html", "text/html; charset=utf-8"},
	Document:                 {"openapi.json", "application/json"},
	"docs.css":               {"docs.css", "text/css; charset=utf-8"},
	"swagger-initializer.js": {"swagger-initializer.js", "text/javascript; charset=utf-8"},
	"swagger-ui-bundle.js":   {"ui/swagger-ui-bundle.js", "text/javascript; charset=utf-8"},
	"swagger-ui.css":         {"ui/swagger-ui.css", "text/css; charset=utf-8"},
	"favicon-16x16.png":      {"ui/favicon-16x16.png", "image/png"},
	"favicon-32x32.png":      {"ui/favicon-32x32.png", "image/png"},
}

// Cache lifetimes. The page and the document are revalidated on every use (their ETag
// makes that a 304), so a deployment shows at once. The page links the other files with
// their content hash (?v=...): such a URL names these bytes forever and is cached for a
// year; the same file asked for without its current hash is kept briefly.
const (
	cacheRevalidate = "public, no-cache"
	cacheVersioned  = "public, max-age=31536000, immutable"
	cacheShort      = "public, max-age=300"
)

// file is one file as served.
type file struct {
	name, contentType string
	body              []byte
	version           string // hash of body: its ETag and the ?v= of the page's links
	revalidate        bool
	gzipped           func() []byte // nil for images; returns nil when gzip does not make it smaller
}

// files are built on first use, not at start: every function's process links this
// package (the functions image is one binary), and only platform-docs reads 2 MB and
// hashes it.
var files = sync.OnceValue(load)

func load() map[string]*file {
	out := make(map[string]*file, len(sources))
	versions := map[string]string{}
	for name, src := range sources {
		if name == Page {
			continue
		}
		body, err := embedded.ReadFile(src.path)
		if err != nil {
			panic(fmt.Sprintf("apidocs: %s is not embedded: %v", src.path, err)) // the go:embed lines name every source
		}
		out[name] = newFile(name, src.contentType, body)
		versions[name] = out[name].version
	}
	// The page links each file by its hash, so a new build's page never meets an old
	// cached bundle.
	page := template.Must(template.ParseFS(embedded, sources[Page].path))
	var b bytes.Buffer
	if err := page.Execute(&b, versions); err != nil {
		panic(fmt.Sprintf("apidocs: render %s: %v", Page, err)) // a fixed template over a map of every name
	}
	out[Page] = newFile(Page, sources[Page].contentType, b.Bytes())
	return out
}

func newFile(name, contentType string, body []byte) *file {
	sum := sha256.Sum256(body)
	f := &file{
		name:        name,
		contentType: contentType,
		body:        body,
		version:     hex.EncodeToString(sum[:8]),
		revalidate:  name == Page || name == Document,
	}
	if !strings.HasPrefix(contentType, "image/") {
		f.gzipped = sync.OnceValue(func() []byte { return compress(body) })
	}
	return f
}

// compress gzips body, or returns nil if that does not make it smaller.
func compress(body []byte) []byte {
	var b bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&b, gzip.BestCompression) // a valid level: no error
	_, _ = zw.Write(body)                                  // a bytes.Buffer does not fail
	_ = zw.Close()
	if b.Len() >= len(body) {
		return nil
	}
	return b.Bytes()
}

// Open returns the handler of the file served under name (Page, Document, or a file the
// page loads), or false for any other name: names are looked up, never joined to a path.
func Open(name string) (http.Handler, bool) {
	f, ok := files()[name]
	return f, ok
}

// ServeHTTP answers GET and HEAD with the file, gzipped for a client that takes it, with
// its ETag, so If-None-Match answers 304 (http.ServeContent, which also serves ranges). The headers are set before anything is written,
// so they win over the API's defaults (api.Secure adds only what is missing).
func (f *file) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", f.contentType)
	switch {
	case f.revalidate:
		h.Set("Cache-Control", cacheRevalidate)
	case r.URL.Query().Get("v") == f.version:
		h.Set("Cache-Control", cacheVersioned)
	default:
		h.Set("Cache-Control", cacheShort)
	}
	if f.name == Page {
		h.Set("Content-Security-Policy", PageCSP)
	}
	body, etag := f.body, f.version
	if f.gzipped != nil {
		h.Add("Vary", "Accept-Encoding")
		if gz := f.gzipped(); gz != nil && acceptsGzip(r.Header.Get("Accept-Encoding")) {
			body, etag = gz, etag+"-gzip"
			h.Set("Content-Encoding", "gzip")
		}
	}
	h.Set("ETag", strconv.Quote(etag))
	http.ServeContent(w, r, f.name, time.Time{}, bytes.NewReader(body))
}

// acceptsGzip says whether an Accept-Encoding header takes gzip (RFC 9110 §12.5.3): named,
// or through *, with a weight above zero.
func acceptsGzip(header string) bool {
	gz, star := -1.0, -1.0
	for part := range strings.SplitSeq(header, ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		q := 1.0
		if v, ok := strings.CutPrefix(strings.ReplaceAll(strings.TrimSpace(params), " ", ""), "q="); ok {
			parsed, err := strconv.ParseFloat(v, 64)
			if err != nil {
				continue
			}
			q = parsed
		}
		switch strings.ToLower(strings.TrimSpace(coding)) {
		case "gzip", "x-gzip":
			gz = q
		case "*":
			star = q
		}
	}
	if gz >= 0 {
		return gz > 0
	}
	return star > 0
}
