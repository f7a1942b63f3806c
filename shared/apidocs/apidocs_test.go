package apidocs

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// The page links every file it loads with the hash the file is served under, and every
// file it links is served; the initializer loads the document.
func TestPageLinksEveryFileByItsVersion(t *testing.T) {
	t.Parallel()
	page := string(files()[Page].body)
	for name, f := range files() {
		switch name {
		case Page:
		case Document:
			if init := string(files()["swagger-initializer.js"].body); !strings.Contains(init, `url: "`+Document+`"`) {
				t.Errorf("the initializer does not load %s", Document)
			}
		default:
			if link := name + "?v=" + f.version; !strings.Contains(page, link) {
				t.Errorf("%s does not link %s", Page, link)
			}
		}
	}
	for _, src := range regexp.MustCompile(`(?:src|href)="([^"?]+)`).FindAllStringSubmatch(page, -1) {
		if _, ok := Open(src[1]); !ok {
			t.Errorf("%s links %s, which is not served", Page, src[1])
		}
	}
}

// The page runs no inline script: its scripts are files of the origin, which is what
// PageCSP (script-src 'self', no 'unsafe-inline') allows.
func TestPageHasNoInlineScript(t *testing.T) {
	t.Parallel()
	page := string(files()[Page].body)
	scripts := regexp.MustCompile(`(?is)<script([^>]*)>(.*?)</script>`).FindAllStringSubmatch(page, -1)
	if len(scripts) != 2 {
		t.Fatalf("%d scripts in the page, want the bundle and the initializer", len(scripts))
	}
	for _, s := range scripts {
		if strings.TrimSpace(s[2]) != "" || !strings.Contains(s[1], `src="`) {
			t.Errorf("inline script %q", s[0])
		}
	}
	if regexp.MustCompile(`(?i)\son[a-z]+=|style=|javascript:`).MatchString(page) {
		t.Errorf("the page has an event handler, style attribute or javascript: URL:\n%s", page)
	}
	for _, d := range []string{"script-src 'self';", "connect-src 'self';", "img-src 'self' data:;", "frame-ancestors 'none'"} {
		if !strings.Contains(PageCSP, d) {
			t.Errorf("PageCSP lacks %q", d)
		}
	}
	if strings.Contains(strings.Split(strings.Split(PageCSP, "script-src")[1], ";")[0], "unsafe") {
		t.Errorf("PageCSP lets scripts run inline or eval: %s", PageCSP)
	}
}

// The vendored files are what scripts/swagger-ui.sh writes: the version it names, and no
// source map or standalone preset.
func TestVendoredSwaggerUI(t *testing.T) {
	t.Parallel()
	version, err := os.ReadFile("ui/VERSION")
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`(?m)^swagger-ui-dist 5\.\d+\.\d+\nintegrity sha512-[A-Za-z0-9+/]{86}==\n`).Match(version) {
		t.Errorf("ui/VERSION is not what scripts/swagger-ui.sh writes:\n%s", version)
	}
	entries, err := os.ReadDir("ui")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".map") || strings.Contains(e.Name(), "standalone") {
			t.Errorf("ui/%s is vendored; the page does not load it", e.Name())
		}
	}
	if !bytes.Contains(files()["swagger-ui-bundle.js"].body, []byte("SwaggerUIBundle")) {
		t.Error("swagger-ui-bundle.js does not define SwaggerUIBundle")
	}
}

// Each file answers with its type and caching; a client that takes gzip gets it gzipped,
// and the ETag of what it got makes its next request a 304.
func TestServe(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, query, encoding string
		contentType, cache    string
		gzipped, csp          bool
	}{
		{Page, "", "gzip", "text/html; charset=utf-8", cacheRevalidate, true, true},
		{Page, "", "", "text/html; charset=utf-8", cacheRevalidate, false, true},
		// The placeholder document is too small to gain from gzip; the generated one is not.
		{Document, "", "br, gzip;q=0.5", "application/json", cacheRevalidate, compress(files()[Document].body) != nil, false},
		{"swagger-ui-bundle.js", "?v=" + files()["swagger-ui-bundle.js"].version, "gzip", "text/javascript; charset=utf-8", cacheVersioned, true, false},
		{"swagger-ui-bundle.js", "?v=0123", "gzip;q=0", "text/javascript; charset=utf-8", cacheShort, false, false},
		{"swagger-ui.css", "", "*", "text/css; charset=utf-8", cacheShort, true, false},
		{"swagger-initializer.js", "", "identity", "text/javascript; charset=utf-8", cacheShort, false, false},
		{"favicon-32x32.png", "", "gzip", "image/png", cacheShort, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name+tt.query+" "+tt.encoding, func(t *testing.T) {
			t.Parallel()
			h, ok := Open(tt.name)
			if !ok {
				t.Fatalf("%s is not served", tt.name)
			}
			req := httptest.NewRequest(http.MethodGet, "/api/v1/docs/"+tt.name+tt.query, nil)
			if tt.encoding != "" {
				req.Header.Set("Accept-Encoding", tt.encoding)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			res := rec.Result()
			if res.StatusCode != http.StatusOK {
				t.Fatalf("status %d", res.StatusCode)
			}
			for key, want := range map[string]string{"Content-Type": tt.contentType, "Cache-Control": tt.cache} {
				if got := res.Header.Get(key); got != want {
					t.Errorf("%s %q, want %q", key, got, want)
				}
			}
			if got := res.Header.Get("Content-Security-Policy"); (got == PageCSP) != tt.csp {
				t.Errorf("Content-Security-Policy %q", got)
			}
			body := rec.Body.Bytes()
			if tt.gzipped {
				if res.Header.Get("Content-Encoding") != "gzip" {
					t.Fatalf("Content-Encoding %q, want gzip", res.Header.Get("Content-Encoding"))
				}
				zr, err := gzip.NewReader(bytes.NewReader(body))
				if err != nil {
					t.Fatal(err)
				}
				if body, err = io.ReadAll(zr); err != nil {
					t.Fatal(err)
				}
			} else if res.Header.Get("Content-Encoding") != "" {
				t.Errorf("Content-Encoding %q, want none", res.Header.Get("Content-Encoding"))
			}
			if !bytes.Equal(body, files()[tt.name].body) {
				t.Errorf("body of %d bytes is not the file's %d", len(body), len(files()[tt.name].body))
			}

			again := httptest.NewRequest(http.MethodGet, "/api/v1/docs/"+tt.name+tt.query, nil)
			again.Header.Set("Accept-Encoding", tt.encoding)
			again.Header.Set("If-None-Match", res.Header.Get("ETag"))
			rec = httptest.NewRecorder()
			h.ServeHTTP(rec, again)
			if rec.Code != http.StatusNotModified || rec.Body.Len() != 0 {
				t.Errorf("revalidation answered %d with %d bytes, want 304", rec.Code, rec.Body.Len())
			}
		})
	}
}

// HEAD answers the headers of GET and no body.
func TestHead(t *testing.T) {
	t.Parallel()
	h, _ := Open(Page)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodHead, "/api/v1/docs/"+Page, nil))
	if rec.Code != http.StatusOK || rec.Body.Len() != 0 || rec.Header().Get("ETag") == "" ||
		rec.Header().Get("Content-Length") != strconv.Itoa(len(files()[Page].body)) {
		t.Errorf("HEAD: %d, %d bytes, headers %v", rec.Code, rec.Body.Len(), rec.Header())
	}
}

// Only the files above are served: a name is looked up, never opened as a path.
func TestOpenRefusesOtherNames(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"", ".", "..", "../index.html", "ui/swagger-ui.css", "apidocs.go", "ui/LICENSE", "VERSION", "index.html/", "swagger-ui-bundle.js.map", "INDEX.HTML"} {
		if _, ok := Open(name); ok {
			t.Errorf("Open(%q) serves a file", name)
		}
	}
}

func TestAcceptsGzip(t *testing.T) {
	t.Parallel()
	for header, want := range map[string]bool{
		"": false, "gzip": true, "GZIP": true, "deflate, gzip;q=1.0, *;q=0.5": true, "br": false,
		"gzip;q=0": false, "gzip; q=0.001": true, "*": true, "*;q=0": false, "gzip;q=0, *": false,
		"x-gzip": true, "gzip;q=nope": false, "identity": false,
	} {
		if got := acceptsGzip(header); got != want {
			t.Errorf("acceptsGzip(%q) = %v, want %v", header, got, want)
		}
	}
}
