package api_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/8949market/market/shared/api"
	"github.com/8949market/market/shared/fault"
)

type decodeTarget struct {
	Name   *string    `json:"name"`
	Price  *int64     `json:"price"`
	Start  *time.Time `json:"start"`
	Tags   []string   `json:"tags"`
	Nested struct {
		N int `json:"n"`
	} `json:"nested"`
	Meta map[string]string `json:"meta"`
}

const decodeLimit = 1024

// bigString is a valid JSON document (one string) of 2 KiB, over decodeLimit.
var bigString = `"` + strings.Repeat("a", 2048) + `"`

// newDecodeRequest builds a POST with body. contentType "" sends no Content-Type;
// chunked makes the length unknown, as a chunked upload has.
func newDecodeRequest(body, contentType string, chunked bool) *http.Request {
	req := httptest.NewRequest(http.MethodPost, "/things", strings.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if chunked {
		req.ContentLength = -1
		req.TransferEncoding = []string{"chunked"}
		req.Body = io.NopCloser(strings.NewReader(body))
	}
	return req
}

func TestDecodeRefuses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		body        string
		contentType string
		chunked     bool
		wantCode    string
		wantKind    fault.Kind
		wantStatus  int
		wantField   string
	}{
		// Malformed JSON.
		{name: "unterminated object", body: `{`, wantCode: "C008", wantKind: fault.Invalid, wantStatus: 400},
		{name: "missing value", body: `{"name":}`, wantCode: "C008", wantKind: fault.Invalid, wantStatus: 400},
		{name: "not json", body: `not json`, wantCode: "C008", wantKind: fault.Invalid, wantStatus: 400},
		{name: "empty body", body: ``, wantCode: "C008", wantKind: fault.Invalid, wantStatus: 400},
		{name: "whitespace only", body: " \n\t ", wantCode: "C008", wantKind: fault.Invalid, wantStatus: 400},
		{name: "trailing comma", body: `{"name":"a",}`, wantCode: "C008", wantKind: fault.Invalid, wantStatus: 400},
		// Trailing data.
		{name: "two objects", body: `{} {}`, wantCode: "C008", wantKind: fault.Invalid, wantStatus: 400},
		{name: "object then garbage", body: `{}x`, wantCode: "C008", wantKind: fault.Invalid, wantStatus: 400},
		{name: "object then number", body: `{"name":"a"} 1`, wantCode: "C008", wantKind: fault.Invalid, wantStatus: 400},
		// Wrong types.
		{name: "string for integer", body: `{"price":"12"}`, wantCode: "C010", wantKind: fault.Invalid, wantStatus: 400, wantField: "price"},
		{name: "fraction for integer", body: `{"price":1.5}`, wantCode: "C010", wantKind: fault.Invalid, wantStatus: 400, wantField: "price"},
		{name: "number for string", body: `{"name":5}`, wantCode: "C010", wantKind: fault.Invalid, wantStatus: 400, wantField: "name"},
		{name: "string for array", body: `{"tags":"a"}`, wantCode: "C010", wantKind: fault.Invalid, wantStatus: 400, wantField: "tags"},
		{name: "number in string array", body: `{"tags":["a",1]}`, wantCode: "C010", wantKind: fault.Invalid, wantStatus: 400, wantField: "tags"},
		{name: "nested wrong type", body: `{"nested":{"n":"x"}}`, wantCode: "C010", wantKind: fault.Invalid, wantStatus: 400, wantField: "nested.n"},
		{name: "array for object", body: `{"nested":[]}`, wantCode: "C010", wantKind: fault.Invalid, wantStatus: 400, wantField: "nested"},
		{name: "top-level array", body: `[]`, wantCode: "C010", wantKind: fault.Invalid, wantStatus: 400},
		{name: "top-level string", body: `"x"`, wantCode: "C010", wantKind: fault.Invalid, wantStatus: 400},
		// A type's own UnmarshalJSON refuses.
		{name: "date without time", body: `{"start":"2026-01-01"}`, wantCode: "C010", wantKind: fault.Invalid, wantStatus: 400},
		{name: "time not a string", body: `{"start":12}`, wantCode: "C010", wantKind: fault.Invalid, wantStatus: 400},
		// Unknown fields.
		{name: "unknown field", body: `{"nme":"x"}`, wantCode: "C009", wantKind: fault.Invalid, wantStatus: 400, wantField: "nme"},
		{name: "unknown after known", body: `{"name":"a","extra":1}`, wantCode: "C009", wantKind: fault.Invalid, wantStatus: 400, wantField: "extra"},
		// Text PostgreSQL cannot store, or that encoding/json would silently alter.
		{name: "NUL escape", body: `{"name":"a\u0000b"}`, wantCode: "C016", wantKind: fault.Invalid, wantStatus: 400, wantField: "name"},
		{name: "NUL escape in nested array", body: `{"tags":["ok","\u0000"]}`, wantCode: "C016", wantKind: fault.Invalid, wantStatus: 400, wantField: "tags"},
		{name: "invalid UTF-8 byte", body: "{\"name\":\"caf\xe9\"}", wantCode: "C016", wantKind: fault.Invalid, wantStatus: 400, wantField: "name"},
		{name: "truncated UTF-8 sequence", body: "{\"name\":\"\xe2\x82\"}", wantCode: "C016", wantKind: fault.Invalid, wantStatus: 400, wantField: "name"},
		{name: "overlong UTF-8 encoding of NUL", body: "{\"name\":\"\xc0\x80\"}", wantCode: "C016", wantKind: fault.Invalid, wantStatus: 400, wantField: "name"},
		{name: "UTF-8 encoded surrogate", body: "{\"name\":\"\xed\xa0\x80\"}", wantCode: "C016", wantKind: fault.Invalid, wantStatus: 400, wantField: "name"},
		{name: "lone high surrogate escape", body: `{"name":"\ud83d"}`, wantCode: "C016", wantKind: fault.Invalid, wantStatus: 400, wantField: "name"},
		{name: "lone low surrogate escape", body: `{"name":"x\udc00"}`, wantCode: "C016", wantKind: fault.Invalid, wantStatus: 400, wantField: "name"},
		{name: "high surrogate before a non-surrogate", body: `{"name":"\ud83d\u0041"}`, wantCode: "C016", wantKind: fault.Invalid, wantStatus: 400, wantField: "name"},
		{name: "NUL in a nested object", body: `{"name":"ok","meta":{"k":"\u0000"}}`, wantCode: "C016", wantKind: fault.Invalid, wantStatus: 400, wantField: "meta.k"},
		{name: "NUL in a key", body: `{"meta":{"\u0000":"v"}}`, wantCode: "C016", wantKind: fault.Invalid, wantStatus: 400, wantField: "meta"},
		// Oversize.
		{name: "oversize with length", body: bigString, wantCode: "C011", wantKind: fault.TooLarge, wantStatus: 413},
		{name: "oversize chunked", body: bigString, chunked: true, wantCode: "C011", wantKind: fault.TooLarge, wantStatus: 413},
		{name: "oversize object", body: `{"name":` + bigString + `}`, wantCode: "C011", wantKind: fault.TooLarge, wantStatus: 413},
		{name: "oversize trailing whitespace", body: `{}` + strings.Repeat(" ", 2048), wantCode: "C011", wantKind: fault.TooLarge, wantStatus: 413},
		{name: "oversize trailing whitespace chunked", body: `{}` + strings.Repeat(" ", 2048), chunked: true, wantCode: "C011", wantKind: fault.TooLarge, wantStatus: 413},
		{name: "one byte over", body: `"` + strings.Repeat("a", decodeLimit-1) + `"`, wantCode: "C011", wantKind: fault.TooLarge, wantStatus: 413},
		// Content type.
		{name: "text/plain", body: `{}`, contentType: "text/plain", wantCode: "C012", wantKind: fault.UnsupportedMedia, wantStatus: 415},
		{name: "form", body: `name=x`, contentType: "application/x-www-form-urlencoded", wantCode: "C012", wantKind: fault.UnsupportedMedia, wantStatus: 415},
		{name: "unparsable content type", body: `{}`, contentType: "application/json; =", wantCode: "C012", wantKind: fault.UnsupportedMedia, wantStatus: 415},
		{name: "content type checked before body", body: bigString, contentType: "text/plain", wantCode: "C012", wantKind: fault.UnsupportedMedia, wantStatus: 415},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			req := newDecodeRequest(tc.body, tc.contentType, tc.chunked)
			var dst decodeTarget
			err := api.Decode(httptest.NewRecorder(), req, decodeLimit, &dst)
			if err == nil {
				t.Fatalf("Decode(%q) = nil, want %s", tc.body, tc.wantCode)
			}
			f, ok := fault.As(err)
			if !ok {
				t.Fatalf("Decode error %v is not a fault", err)
			}
			if f.Code != tc.wantCode || f.Kind != tc.wantKind {
				t.Errorf("fault code/kind = %s/%d, want %s/%d (%v)", f.Code, f.Kind, tc.wantCode, tc.wantKind, err)
			}
			if f.Field != tc.wantField {
				t.Errorf("fault field = %q, want %q", f.Field, tc.wantField)
			}
			if f.Message == "" {
				t.Error("fault message is empty")
			}

			rec := httptest.NewRecorder()
			api.Fail(rec, httptest.NewRequest(http.MethodPost, "/things", nil), err)
			if rec.Code != tc.wantStatus {
				t.Errorf("HTTP status = %d, want %d", rec.Code, tc.wantStatus)
			}
			b := decodeErrorBody(t, rec.Body.Bytes())
			if b.Code != tc.wantCode || b.Status != tc.wantStatus {
				t.Errorf("body code/status = %s/%d, want %s/%d", b.Code, b.Status, tc.wantCode, tc.wantStatus)
			}
			gotField := ""
			if b.Field != nil {
				gotField = *b.Field
			}
			if gotField != tc.wantField {
				t.Errorf("body field = %q, want %q", gotField, tc.wantField)
			}
		})
	}
}

func TestDecodeAccepts(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 1, 1, 9, 30, 0, 0, time.UTC)
	full := func() decodeTarget {
		var d decodeTarget
		d.Name = new("lamp")
		d.Price = new(int64(1299))
		d.Start = &start
		d.Tags = []string{"a", "b"}
		d.Nested.N = 7
		return d
	}
	const fullBody = `{"name":"lamp","price":1299,"start":"2026-01-01T09:30:00Z","tags":["a","b"],"nested":{"n":7}}`
	tests := []struct {
		name        string
		body        string
		contentType string
		chunked     bool
		want        decodeTarget
	}{
		{name: "all fields", body: fullBody, contentType: "application/json", want: full()},
		{name: "charset parameter", body: fullBody, contentType: "application/json; charset=utf-8", want: full()},
		{name: "upper-case media type", body: fullBody, contentType: "Application/JSON", want: full()},
		{name: "merge patch", body: `{"name":"lamp"}`, contentType: "application/merge-patch+json", want: decodeTarget{Name: new("lamp")}},
		{name: "no content type", body: fullBody, want: full()},
		{name: "chunked", body: fullBody, chunked: true, want: full()},
		{name: "empty object leaves zero values", body: `{}`, want: decodeTarget{}},
		{name: "explicit nulls", body: `{"name":null,"price":null,"tags":null}`, want: decodeTarget{}},
		{name: "surrounding whitespace", body: "\n  {\"price\": 0}  \n\n", want: decodeTarget{Price: new(int64(0))}},
		{name: "exactly the limit", body: `{"name":"` + strings.Repeat("x", decodeLimit-11) + `"}`, want: decodeTarget{Name: new(strings.Repeat("x", decodeLimit-11))}},
		{name: "escaped backslash before u0000 is text", body: `{"name":"\\u0000"}`, want: decodeTarget{Name: new(`\u0000`)}},
		{name: "surrogate pair", body: `{"name":"\ud83d\ude00"}`, want: decodeTarget{Name: new("\U0001F600")}},
		{name: "raw multi-byte UTF-8 and U+FFFD", body: `{"name":"팔구사구 \uFFFD �","meta":{"키":"값"}}`, want: decodeTarget{Name: new("팔구사구 \uFFFD \uFFFD"), Meta: map[string]string{"키": "값"}}},
		{name: "time with offset", body: `{"start":"2026-01-01T10:30:00+01:00"}`, want: decodeTarget{Start: new(time.Date(2026, 1, 1, 10, 30, 0, 0, time.FixedZone("", 3600)))}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if tc.name == "exactly the limit" && len(tc.body) != decodeLimit {
				t.Fatalf("test body is %d bytes, want %d", len(tc.body), decodeLimit)
			}
			req := newDecodeRequest(tc.body, tc.contentType, tc.chunked)
			var got decodeTarget
			if err := api.Decode(httptest.NewRecorder(), req, decodeLimit, &got); err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if !equalTargets(got, tc.want) {
				t.Errorf("decoded %+v, want %+v", got, tc.want)
			}
		})
	}
}

// equalTargets compares two targets, times by instant.
func equalTargets(a, b decodeTarget) bool {
	if (a.Start == nil) != (b.Start == nil) || (a.Start != nil && !a.Start.Equal(*b.Start)) {
		return false
	}
	a.Start, b.Start = nil, nil
	return reflect.DeepEqual(a, b)
}
