package docs_test

import (
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/8949market/market/shared/devstack/stacktest"
)

const docsPath = "/api/v1/docs/"

// get sends a GET to the stack with headers and returns the answer as sent: the client
// neither follows redirects nor decompresses (a Go client asks for gzip by itself and
// hides it otherwise).
// reply is what get read: the status and headers (the body is returned apart, read whole).
type reply struct {
	StatusCode int
	Header     http.Header
}

func get(t *testing.T, st *stacktest.Stack, path string, header map[string]string) (reply, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, st.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	client := &http.Client{
		Transport:     &http.Transport{DisableCompression: true},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return reply{StatusCode: res.StatusCode, Header: res.Header}, body
}

// Anyone, without a token, reads the API reference: the page, with a policy that runs
// only the origin's scripts and no inline one; Swagger UI's files with their types and
// caching; the OpenAPI document. Any other file, or a path that tries to leave the
// reference's files, is a 404 (or 400) error body; what the client has already is a 304.
func TestDocs(t *testing.T) {
	t.Parallel()
	st := stacktest.Start(t)

	// The page, read once: it links the other files by their versioned URLs.
	pageRes, page := get(t, st, docsPath+"index.html", nil)
	if pageRes.StatusCode != http.StatusOK {
		t.Fatalf("index.html: %d: %s", pageRes.StatusCode, page)
	}
	link := func(name string) string {
		m := regexp.MustCompile(`"(` + regexp.QuoteMeta(name) + `\?v=[0-9a-f]+)"`).FindSubmatch(page)
		if m == nil {
			t.Fatalf("the page does not link %s:\n%s", name, page)
		}
		return string(m[1])
	}

	t.Run("Page", func(t *testing.T) {
		t.Parallel()
		if ct := pageRes.Header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
			t.Errorf("Content-Type %q", ct)
		}
		csp := pageRes.Header.Get("Content-Security-Policy")
		directives := map[string]string{}
		for d := range strings.SplitSeq(csp, ";") {
			name, value, _ := strings.Cut(strings.TrimSpace(d), " ")
			directives[name] = value
		}
		for name, want := range map[string]string{
			"default-src": "'none'", "script-src": "'self'", "connect-src": "'self'",
			"img-src": "'self' data:", "frame-ancestors": "'none'",
		} {
			if directives[name] != want {
				t.Errorf("CSP %s %q, want %q (policy %q)", name, directives[name], want, csp)
			}
		}
		if !strings.HasPrefix(directives["style-src"], "'self'") {
			t.Errorf("CSP style-src %q does not allow the origin's stylesheets", directives["style-src"])
		}
		for _, s := range regexp.MustCompile(`(?is)<script([^>]*)>(.*?)</script>`).FindAllSubmatch(page, -1) {
			if strings.TrimSpace(string(s[2])) != "" || !strings.Contains(string(s[1]), "src=") {
				t.Errorf("inline script in the page: %s", s[0])
			}
		}
		if pageRes.Header.Get("X-Content-Type-Options") != "nosniff" || pageRes.Header.Get("ETag") == "" {
			t.Errorf("headers %v", pageRes.Header)
		}
		if cc := pageRes.Header.Get("Cache-Control"); !strings.Contains(cc, "no-cache") {
			t.Errorf("Cache-Control %q: the page must be revalidated", cc)
		}
	})

	files := []struct {
		name, path, contentType, cache string
		contains                       string
	}{
		{"Bundle", docsPath + link("swagger-ui-bundle.js"), "text/javascript; charset=utf-8", "immutable", "SwaggerUIBundle"},
		{"Stylesheet", docsPath + link("swagger-ui.css"), "text/css; charset=utf-8", "immutable", ".swagger-ui"},
		{"Initializer", docsPath + link("swagger-initializer.js"), "text/javascript; charset=utf-8", "immutable", `url: "openapi.json"`},
		{"UnversionedBundle", docsPath + "swagger-ui-bundle.js", "text/javascript; charset=utf-8", "max-age=300", "SwaggerUIBundle"},
		{"Favicon", docsPath + link("favicon-32x32.png"), "image/png", "immutable", "PNG"},
	}
	for _, tt := range files {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res, body := get(t, st, tt.path, nil)
			if res.StatusCode != http.StatusOK {
				t.Fatalf("%s: %d: %.200s", tt.path, res.StatusCode, body)
			}
			if ct := res.Header.Get("Content-Type"); ct != tt.contentType {
				t.Errorf("Content-Type %q, want %q", ct, tt.contentType)
			}
			if cc := res.Header.Get("Cache-Control"); !strings.Contains(cc, tt.cache) || !strings.Contains(cc, "public") {
				t.Errorf("Cache-Control %q, want public and %s", cc, tt.cache)
			}
			if !strings.Contains(string(body), tt.contains) {
				t.Errorf("%s does not contain %q", tt.path, tt.contains)
			}
		})
	}

	t.Run("Document", func(t *testing.T) {
		t.Parallel()
		res, body := get(t, st, docsPath+"openapi.json", nil)
		if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "application/json" {
			t.Fatalf("openapi.json: %d %q", res.StatusCode, res.Header.Get("Content-Type"))
		}
		var doc struct {
			OpenAPI string `json:"openapi"`
		}
		if err := json.Unmarshal(body, &doc); err != nil {
			t.Fatalf("openapi.json is not JSON: %v", err)
		}
		if !strings.HasPrefix(doc.OpenAPI, "3.1") {
			t.Errorf(`"openapi": %q, want 3.1.x`, doc.OpenAPI)
		}
	})

	t.Run("Gzip", func(t *testing.T) {
		t.Parallel()
		res, body := get(t, st, docsPath+link("swagger-ui-bundle.js"), map[string]string{"Accept-Encoding": "gzip"})
		if res.StatusCode != http.StatusOK || res.Header.Get("Content-Encoding") != "gzip" || len(body) > 700_000 {
			t.Errorf("gzipped bundle: %d, Content-Encoding %q, %d bytes", res.StatusCode, res.Header.Get("Content-Encoding"), len(body))
		}
		if vary := strings.Join(res.Header.Values("Vary"), ", "); !strings.Contains(vary, "Accept-Encoding") {
			t.Errorf("Vary %q", vary)
		}
	})

	// What the client has is not sent again, gzipped or not.
	t.Run("NotModified", func(t *testing.T) {
		t.Parallel()
		for _, path := range []string{docsPath + "index.html", docsPath + "openapi.json", docsPath + link("swagger-ui-bundle.js")} {
			for _, encoding := range []string{"identity", "gzip"} {
				first, _ := get(t, st, path, map[string]string{"Accept-Encoding": encoding})
				etag := first.Header.Get("ETag")
				res, body := get(t, st, path, map[string]string{"Accept-Encoding": encoding, "If-None-Match": etag})
				if etag == "" || res.StatusCode != http.StatusNotModified || len(body) != 0 {
					t.Errorf("%s (%s) with If-None-Match %s: %d, %d bytes, want 304", path, encoding, etag, res.StatusCode, len(body))
				}
			}
		}
	})

	refusals := []struct{ name, path string }{
		{"UnknownFile", docsPath + "nope.html"},
		{"SourceMap", docsPath + "swagger-ui-bundle.js.map"},
		{"VendoredLicence", docsPath + "LICENSE"},
		{"GoSource", docsPath + "apidocs.go"},
		{"EncodedSlashTraversal", docsPath + "..%2Findex.html"},
		{"EncodedDotDot", docsPath + "%2e%2e"},
		{"EncodedDotDotToModule", docsPath + "%2e%2e%2f%2e%2e%2f%2e%2e%2f%2e%2e%2fgo.mod"},
		{"SubdirectoryEncoded", docsPath + "ui%2fswagger-ui.css"},
		{"Subdirectory", docsPath + "ui/swagger-ui.css"},
		{"NoFile", docsPath},
		{"NUL", docsPath + "index.html%00"},
	}
	for _, tt := range refusals {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res, body := get(t, st, tt.path, nil)
			if res.StatusCode != http.StatusNotFound && res.StatusCode != http.StatusBadRequest {
				t.Fatalf("%s: %d, want 404 or 400: %.200s", tt.path, res.StatusCode, body)
			}
			var e struct {
				Code string `json:"code"`
			}
			if err := json.Unmarshal(body, &e); err != nil || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
				t.Fatalf("%s: not an error body (%q): %.200s", tt.path, res.Header.Get("Content-Type"), body)
			}
			if res.StatusCode == http.StatusNotFound && e.Code != "C004" {
				t.Errorf("%s: 404 with code %s, want C004", tt.path, e.Code)
			}
			if res.Header.Get("Content-Security-Policy") == pageRes.Header.Get("Content-Security-Policy") {
				t.Errorf("%s: an error carries the page's policy", tt.path)
			}
		})
	}
}
