package api_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/8949market/market/shared/api"
	"github.com/8949market/market/shared/fault"
)

// wantSecurityHeaders is what every response carries unless its handler says otherwise.
var wantSecurityHeaders = map[string]string{
	"X-Content-Type-Options":  "nosniff",
	"X-Frame-Options":         "DENY",
	"Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
	"Referrer-Policy":         "no-referrer",
	"Cache-Control":           "no-store",
}

func TestSecurityHeaders(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		handler http.HandlerFunc
		status  int
		own     map[string]string // headers the handler sets itself, which win
	}{
		{"success envelope", func(w http.ResponseWriter, r *http.Request) { api.OK(w, r, "x") }, 200, nil},
		{"error body", func(w http.ResponseWriter, r *http.Request) { api.Fail(w, r, fault.ErrNotFound) }, 404, nil},
		{"nothing written", func(http.ResponseWriter, *http.Request) {}, 200, nil},
		{"status only", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }, 204, nil},
		{"bare write", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("{}")) }, 200, nil},
		{"http.Error", func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "no", http.StatusTeapot) }, 418, nil},
		{"panic", func(http.ResponseWriter, *http.Request) { panic("boom") }, 500, nil},
		{"own cache policy", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Cache-Control", "public, max-age=300")
			_, _ = w.Write([]byte("{}"))
		}, 200, map[string]string{"Cache-Control": "public, max-age=300"}},
	}
	wrappers := []struct {
		name string
		wrap func(http.Handler) http.Handler
	}{
		{"Instrument", func(h http.Handler) http.Handler { return api.Instrument("test", h) }},
		{"Secure", func(h http.Handler) http.Handler { return api.Secure(api.Instrument("test", h)) }},
		{"Secure alone", api.Secure},
	}
	for _, wr := range wrappers {
		for _, tc := range tests {
			if wr.name == "Secure alone" && tc.name == "panic" {
				continue // recovering is Instrument's
			}
			t.Run(wr.name+"/"+tc.name, func(t *testing.T) {
				t.Parallel()
				rec := httptest.NewRecorder()
				wr.wrap(tc.handler).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/x", nil))
				if rec.Code != tc.status {
					t.Errorf("status = %d, want %d", rec.Code, tc.status)
				}
				for key, want := range wantSecurityHeaders {
					if own, ok := tc.own[key]; ok {
						want = own
					}
					if got := rec.Header().Values(key); len(got) != 1 || got[0] != want {
						t.Errorf("%s = %q, want exactly %q", key, got, want)
					}
				}
			})
		}
	}
}
