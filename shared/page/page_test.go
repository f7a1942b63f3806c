package page_test

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/8949market/market/shared/fault"
	"github.com/8949market/market/shared/page"
)

type key struct {
	CreatedAt time.Time `json:"c"`
	ID        uuid.UUID `json:"id"`
	Name      string    `json:"n"`
}

func wantCursorFault(t *testing.T, err error) {
	t.Helper()
	if !errors.Is(err, page.ErrCursor) {
		t.Fatalf("err = %v, want ErrCursor", err)
	}
	if f, ok := fault.As(err); !ok || f.Code != "C015" || f.Field != "cursor" || f.Kind != fault.Invalid {
		t.Fatalf("fault = %v, want C015 on cursor", f)
	}
}

func TestEncodeDecodeRoundTrip(t *testing.T) {
	t.Parallel()
	in := key{CreatedAt: time.Date(2030, 1, 2, 3, 4, 5, 123456000, time.UTC), ID: uuid.New(), Name: "김 & \"quoted\""}
	cursor := page.Encode("users:createdAt,desc:abc", in)
	if _, err := base64.RawURLEncoding.DecodeString(cursor); err != nil {
		t.Errorf("cursor %q is not URL-safe base64: %v", cursor, err)
	}
	if url.QueryEscape(cursor) != cursor {
		t.Errorf("cursor %q needs escaping in a query string", cursor)
	}
	var out key
	ok, err := page.Decode(cursor, "users:createdAt,desc:abc", &out)
	if err != nil || !ok {
		t.Fatalf("Decode = %v, %v", ok, err)
	}
	if !out.CreatedAt.Equal(in.CreatedAt) || out.ID != in.ID || out.Name != in.Name {
		t.Errorf("Decode = %+v, want %+v", out, in)
	}
}

func TestDecodeEmptyIsFirstPage(t *testing.T) {
	t.Parallel()
	out := key{Name: "untouched"}
	ok, err := page.Decode("", "q", &out)
	if ok || err != nil || out.Name != "untouched" {
		t.Errorf("Decode(\"\") = %v, %v, key %+v; want false, nil, untouched", ok, err, out)
	}
}

func TestDecodeRefuses(t *testing.T) {
	t.Parallel()
	const q = "users:username,asc:abc"
	b64 := base64.RawURLEncoding.EncodeToString
	tests := []struct{ name, cursor string }{
		{"another query", page.Encode("users:username,desc:abc", key{Name: "x"})},
		{"another filter", page.Encode("users:username,asc:def", key{Name: "x"})},
		{"no query", page.Encode("", key{Name: "x"})},
		{"garbage", "!!not base64!!"},
		{"padded standard base64", base64.StdEncoding.EncodeToString([]byte(`{"q":"`+q+`","k":{}}`)) + "=="},
		{"base64 of text", b64([]byte("hello, world"))},
		{"base64 of a JSON string", b64([]byte(`"` + q + `"`))},
		{"base64 of null", b64([]byte("null"))},
		{"key of the wrong shape", b64([]byte(`{"q":"` + q + `","k":"just a string"}`))},
		{"key field of the wrong type", b64([]byte(`{"q":"` + q + `","k":{"id":"not-a-uuid"}}`))},
		{"truncated", page.Encode(q, key{Name: "x"})[:10]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var out key
			ok, err := page.Decode(tt.cursor, q, &out)
			if ok {
				t.Errorf("Decode accepted %q", tt.cursor)
			}
			wantCursorFault(t, err)
		})
	}
}

func TestOf(t *testing.T) {
	t.Parallel()
	cursorOf := func(last int) string { return page.Encode("ints", last) }
	tests := []struct {
		name    string
		rows    []int
		size    int
		content []int
		hasNext bool
		last    int // the row the next cursor names, when there is one
	}{
		{"nil rows", nil, 3, []int{}, false, 0},
		{"no rows", []int{}, 3, []int{}, false, 0},
		{"fewer than size", []int{1, 2}, 3, []int{1, 2}, false, 0},
		{"exactly size", []int{1, 2, 3}, 3, []int{1, 2, 3}, false, 0},
		{"one more than size", []int{1, 2, 3, 4}, 3, []int{1, 2, 3}, true, 3},
		{"size one with more", []int{7, 8}, 1, []int{7}, true, 7},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			called := 0
			p := page.Of(tt.rows, tt.size, func(last int) string { called++; return cursorOf(last) })
			if p.Content == nil || !slices.Equal(p.Content, tt.content) || p.Size != tt.size || p.HasNext != tt.hasNext {
				t.Errorf("Of = %+v", p)
			}
			if !tt.hasNext {
				if p.NextCursor != "" || called != 0 {
					t.Errorf("last page has cursor %q (cursor made %d times)", p.NextCursor, called)
				}
			} else if p.NextCursor != cursorOf(tt.last) || called != 1 {
				t.Errorf("NextCursor = %q, want the cursor of row %d", p.NextCursor, tt.last)
			}
			raw, err := json.Marshal(p)
			if err != nil {
				t.Fatal(err)
			}
			var shape map[string]json.RawMessage
			if err := json.Unmarshal(raw, &shape); err != nil {
				t.Fatal(err)
			}
			if string(shape["content"]) == "null" {
				t.Errorf("content marshals as null: %s", raw)
			}
			if _, has := shape["nextCursor"]; has != tt.hasNext {
				t.Errorf("nextCursor present = %v in %s", has, raw)
			}
		})
	}
}

func TestSize(t *testing.T) {
	t.Parallel()
	const def, max = 20, 100
	tests := []struct {
		query string
		want  int
		ok    bool
	}{
		{"", def, true},
		{"size=", def, true},
		{"other=5", def, true},
		{"size=1", 1, true},
		{"size=42", 42, true},
		{"size=100", max, true},
		{"size=0", 0, false},
		{"size=101", 0, false},
		{"size=x", 0, false},
		{"size=-1", 0, false},
		{"size=1.5", 0, false},
		{"size=%205", 0, false},
		{"size=99999999999999999999", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequest("GET", "/api/v1/users?"+tt.query, nil)
			got, err := page.Size(r.URL.Query(), def, max)
			if tt.ok {
				if err != nil || got != tt.want {
					t.Errorf("Size = %d, %v; want %d", got, err, tt.want)
				}
				return
			}
			f, ok := fault.As(err)
			if !ok || f.Code != "C015" || f.Field != "size" || got != 0 {
				t.Errorf("Size = %d, %v; want C015 on size", got, err)
			}
		})
	}
}
