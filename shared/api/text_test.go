package api_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/8949market/market/shared/api"
)

// A function reads its query with r.URL.Query(); Instrument refuses a query whose decoded
// names or values PostgreSQL could not store, before the function sees it.
func TestInstrumentRefusesQueryText(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		query     string
		wantField string // "" with refused: no field named
		refused   bool
	}{
		{"NUL in a value", "q=a%00b", "q", true},
		{"invalid UTF-8 in a value", "q=caf%E9", "q", true},
		{"a later value of a repeated name", "status=OPEN&status=%00", "status", true},
		{"NUL in a name", "a%00b=1", "", true},
		{"invalid UTF-8 in a name", "%FF=1", "", true},
		{"the first bad parameter by name", "z=%00&a=%FF", "a", true},
		{"plain text", "q=vintage+camera&size=10", "", false},
		{"multi-byte UTF-8", "q=%ED%8C%94%EA%B5%AC", "", false},
		{"an escape that does not decode is dropped, as r.URL.Query() drops it", "q=%zz", "", false},
		{"no query", "", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			reached := false
			h := api.Instrument("test", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				reached = true
				api.OK(w, r, nil)
			}))
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/v1/things?"+tc.query, nil))
			if !tc.refused {
				if rec.Code != http.StatusOK || !reached {
					t.Fatalf("status %d, reached %v; want the function to answer: %s", rec.Code, reached, rec.Body)
				}
				return
			}
			if reached {
				t.Error("the function saw the query")
			}
			b := decodeErrorBody(t, rec.Body.Bytes())
			if rec.Code != http.StatusBadRequest || b.Code != "C016" {
				t.Fatalf("answer %d %s, want 400 C016: %s", rec.Code, b.Code, rec.Body)
			}
			got := ""
			if b.Field != nil {
				got = *b.Field
			}
			if got != tc.wantField {
				t.Errorf("field = %q, want %q", got, tc.wantField)
			}
		})
	}
}
