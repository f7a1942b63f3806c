package main

import (
	"net/http"
	"strings"
	"testing"
)

// make dev's /docs is a redirect to the API reference's page, which the stack serves
// (platform-docs; functions/platform/docs tests the files themselves).
func TestDocsRedirectOfMakeDev(t *testing.T) {
	s := startStack(t)
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := client.Get(s.URL + "/docs")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusFound || res.Header.Get("Location") != "/api/v1/docs/index.html" {
		t.Fatalf("/docs: %d to %q, want 302 to /api/v1/docs/index.html", res.StatusCode, res.Header.Get("Location"))
	}
	page := s.raw(t, "GET", res.Header.Get("Location"), "", "")
	page.Body.Close()
	if page.StatusCode != http.StatusOK || !strings.HasPrefix(page.Header.Get("Content-Type"), "text/html") {
		t.Errorf("the page: %d %q", page.StatusCode, page.Header.Get("Content-Type"))
	}
}
