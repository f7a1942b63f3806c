package page_test

import (
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/8949market/market/shared/api"
	"github.com/8949market/market/shared/fault"
	"github.com/8949market/market/shared/page"
)

// fuzzKey has the shape of the lists' cursor keys (users', products'): an optional sort
// text, an optional sort time, a number and the id that breaks ties.
type fuzzKey struct {
	Text  string     `json:"t,omitempty"`
	Time  *time.Time `json:"c,omitempty"`
	Price int64      `json:"p,omitempty"`
	ID    uuid.UUID  `json:"id"`
}

const fuzzQuery = "users:createdAt,desc:0123456789abcdef"

// The seeds run as ordinary tests under make test; make fuzz mutates them (scripts/fuzz.sh).
//
// FuzzCursorDecode hands Decode any string as a cursor. Properties: the empty cursor is
// the first page; a cursor Decode accepts is exactly the one Encode makes for the key it
// decoded (so it re-encodes to itself) and decodes again to the same key; a tampered
// copy (truncated, extended, repadded, for another query) is refused; every refusal is
// ErrCursor, a 400 on the cursor parameter, never anything else.
func FuzzCursorDecode(f *testing.F) {
	b64 := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	at := time.Date(2030, 1, 2, 3, 4, 5, 123456789, time.UTC)
	seoul := time.Date(2030, 1, 2, 12, 4, 5, 0, time.FixedZone("KST", 9*3600))
	id := uuid.MustParse("0190a0b0-c0d0-7e0f-8a1b-2c3d4e5f6071")
	valid := page.Encode(fuzzQuery, fuzzKey{Text: "alice", Time: &at, Price: 1500, ID: id})
	envelope := func(k string) string { return b64(`{"q":"` + fuzzQuery + `","k":` + k + `}`) }
	for _, seed := range []string{
		// Valid: what the server hands out.
		"",
		valid,
		page.Encode(fuzzQuery, fuzzKey{ID: id}),
		page.Encode(fuzzQuery, fuzzKey{Time: &seoul, ID: id}),
		page.Encode(fuzzQuery, fuzzKey{Text: "김 & <\"quoted\">\u2028", Price: -1, ID: id}),
		page.Encode(fuzzQuery, fuzzKey{Text: "nul\x00inside", ID: id}),
		page.Encode(fuzzQuery, fuzzKey{Price: 9223372036854775807, ID: id}),
		// Edge: the same key spelled another way than Encode spells it.
		envelope(`{"id":"` + id.String() + `"}`),
		b64(`{"q":"` + fuzzQuery + `", "k":{"id":"` + id.String() + `"}}`),
		b64(`{"k":{"id":"` + id.String() + `"},"q":"` + fuzzQuery + `"}`),
		b64(`{"q":"` + fuzzQuery + `","k":{"id":"` + id.String() + `"}}` + " "),
		envelope(`{"id":"` + strings.ToUpper(id.String()) + `"}`),
		envelope(`null`),
		envelope(`{}`),
		base64.StdEncoding.EncodeToString([]byte(`{"q":"` + fuzzQuery + `","k":{}}`)),
		valid + "=",
		valid[:len(valid)-1],
		// Malformed: not base64, not JSON, the wrong shapes and types.
		"!!not base64!!",
		"a",
		"\x00",
		"\xff\xfe",
		b64("hello, world"),
		b64("null"),
		b64(`"` + fuzzQuery + `"`),
		b64(`{"q":"` + fuzzQuery + `"}`),
		b64(`{"q":"another:query","k":{"id":"` + id.String() + `"}}`),
		envelope(`"just a string"`),
		envelope(`{"id":"not-a-uuid"}`),
		envelope(`{"c":"2030-13-45T99:99:99Z","id":"` + id.String() + `"}`),
		envelope(`{"c":"2030-01-02T03:04:05+24:00","id":"` + id.String() + `"}`),
		// NUL bytes and invalid UTF-8 in the decoded JSON.
		envelope(`{"t":"a` + "\x00" + `b","id":"` + id.String() + `"}`),
		envelope(`{"t":"` + "\xff\xfe" + `","id":"` + id.String() + `"}`),
		envelope(`{"t":"\ud800","id":"` + id.String() + `"}`),
		b64(`{"q":"` + fuzzQuery + "\xff" + `","k":{}}`),
		// Huge numbers.
		envelope(`{"p":99999999999999999999999999,"id":"` + id.String() + `"}`),
		envelope(`{"p":1e400,"id":"` + id.String() + `"}`),
		envelope(`{"p":-0,"id":"` + id.String() + `"}`),
		envelope(`{"p":1.5,"id":"` + id.String() + `"}`),
		// Deep nesting.
		envelope(strings.Repeat("[", 5000) + strings.Repeat("]", 5000)),
		envelope(`{"t":` + strings.Repeat(`{"t":`, 200) + `1` + strings.Repeat("}", 201)),
		// Duplicate keys and unknown fields.
		b64(`{"q":"another:query","q":"` + fuzzQuery + `","k":{"id":"` + id.String() + `"}}`),
		b64(`{"q":"` + fuzzQuery + `","q":"another:query","k":{"id":"` + id.String() + `"}}`),
		envelope(`{"id":"` + uuid.Nil.String() + `","id":"` + id.String() + `"}`),
		envelope(`{"ID":"` + id.String() + `"}`),
		envelope(`{"id":"` + id.String() + `","admin":true}`),
		b64(`{"q":"` + fuzzQuery + `","k":{"id":"` + id.String() + `"},"x":1}`),
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, cursor string) {
		var key fuzzKey
		ok, err := page.Decode(cursor, fuzzQuery, &key)
		switch {
		case cursor == "":
			if ok || err != nil {
				t.Fatalf("Decode(\"\") = %v, %v; want the first page", ok, err)
			}
			return
		case err != nil:
			if ok {
				t.Fatalf("Decode(%q) = true with error %v", cursor, err)
			}
			wantRefused(t, err)
			return
		case !ok:
			t.Fatalf("Decode(%q) = false, nil for a non-empty cursor", cursor)
		}

		// Accepted: it is the server's own cursor for this key, byte for byte.
		again := page.Encode(fuzzQuery, key)
		if again != cursor {
			t.Fatalf("Decode accepted %q, but the key %+v encodes as %q", cursor, key, again)
		}
		var key2 fuzzKey
		if ok, err := page.Decode(again, fuzzQuery, &key2); !ok || err != nil {
			t.Fatalf("re-encoded cursor %q: Decode = %v, %v", again, ok, err)
		}
		sameKey(t, key, key2)
		for _, tampered := range tamper(cursor) {
			var k fuzzKey
			ok, err := page.Decode(tampered, fuzzQuery, &k)
			if ok || err == nil {
				t.Fatalf("tampered cursor %q (of %q) accepted as %+v", tampered, cursor, k)
			}
			wantRefused(t, err)
		}
		for _, other := range []string{fuzzQuery + "x", strings.TrimSuffix(fuzzQuery, "f"), ""} {
			var k fuzzKey
			if ok, err := page.Decode(cursor, other, &k); ok || !errors.Is(err, page.ErrCursor) {
				t.Fatalf("cursor for %q accepted for query %q: %v, %v", fuzzQuery, other, ok, err)
			}
		}
	})
}

// FuzzCursorRoundTrip builds keys from fuzzed parts (any text, times of every year and
// offset JSON can spell, any number and id) for any query. Properties: the cursor is
// URL-safe; it decodes to the same key and re-encodes to the same cursor; it is refused
// for another query and when tampered with.
func FuzzCursorRoundTrip(f *testing.F) {
	id := uuid.MustParse("0190a0b0-c0d0-7e0f-8a1b-2c3d4e5f6071")
	f.Add(fuzzQuery, "alice", true, int64(1893553445), int64(123456789), int16(0), int64(1500), id[:])
	f.Add("products:0123456789abcdef", "", false, int64(0), int64(0), int16(0), int64(0), uuid.Nil[:])
	f.Add("reservations\x1fall\x1f\x1fKim\x1f\x1f", "김 & <\"quoted\">", true, int64(-62135596800), int64(0), int16(-720), int64(-1), id[:])
	f.Add("chat-rooms:x:y:", "nul\x00inside", true, int64(253402300799), int64(999999999), int16(840), int64(9223372036854775807), id[:])
	f.Add("", "\xff\xfe invalid UTF-8", true, int64(-1), int64(-1), int16(1439), int64(-9223372036854775808), []byte{1, 2, 3})
	f.Add("q\xffinvalid", "\u2028\u2029", true, int64(9223372036854775807), int64(1<<40), int16(-1439), int64(42), []byte{})
	f.Add(strings.Repeat("q", 1000), strings.Repeat("é", 1000), false, int64(0), int64(0), int16(0), int64(0), id[:])
	f.Fuzz(func(t *testing.T, q, text string, hasTime bool, sec, nsec int64, offsetMin int16, price int64, idBytes []byte) {
		var key fuzzKey
		// Keys come from PostgreSQL: text is valid UTF-8 and times lie in the years JSON
		// can spell (0000 to 9999) at an offset under a day.
		key.Text = strings.ToValidUTF8(text, "\uFFFD")
		if hasTime {
			const first, last = -62167219200, 253402300799 // 0000-01-01, 9999-12-31T23:59:59 UTC
			zone := time.FixedZone("", int(offsetMin)%1440*60)
			sec = first + (sec%(last-first+1)+(last-first+1))%(last-first+1)
			tm := time.Unix(sec, (nsec%1e9+1e9)%1e9).In(zone)
			if y := tm.Year(); y < 0 || y > 9999 {
				tm = tm.UTC()
			}
			key.Time = &tm
		}
		key.Price = price
		copy(key.ID[:], idBytes)

		cursor := page.Encode(q, key)
		if url.QueryEscape(cursor) != cursor || strings.Contains(cursor, "=") {
			t.Fatalf("cursor %q is not URL-safe unpadded base64", cursor)
		}
		var got fuzzKey
		ok, err := page.Decode(cursor, q, &got)
		if !utf8.ValidString(q) {
			// JSON cannot carry the query name as it is: the cursor names another query
			// and is refused, with the same 400 as any other foreign cursor.
			if ok || err == nil {
				t.Fatalf("cursor for invalid UTF-8 query %q accepted", q)
			}
			wantRefused(t, err)
			return
		}
		if !ok || err != nil {
			t.Fatalf("Decode(Encode(%q, %+v)) = %v, %v", q, key, ok, err)
		}
		sameKey(t, key, got)
		if again := page.Encode(q, got); again != cursor {
			t.Fatalf("decoded key re-encodes as %q, want %q", again, cursor)
		}
		for _, other := range []string{q + "x", "x" + q, strings.ToUpper(q) + "\x00"} {
			var k fuzzKey
			ok, err := page.Decode(cursor, other, &k)
			if ok || err == nil {
				t.Fatalf("cursor for %q accepted for query %q", q, other)
			}
			wantRefused(t, err)
		}
		for _, tampered := range tamper(cursor) {
			var k fuzzKey
			ok, err := page.Decode(tampered, q, &k)
			if ok || err == nil {
				t.Fatalf("tampered cursor %q (of %q) accepted as %+v", tampered, cursor, k)
			}
			wantRefused(t, err)
		}
	})
}

// tamper returns altered copies of a cursor Encode made that Decode must refuse:
// truncations, additions, padding, characters outside the URL-safe alphabet, the same
// JSON with other base64 padding bits or another spelling.
func tamper(cursor string) []string {
	out := []string{
		cursor + "A", cursor + "=", cursor + "==", cursor + ".", " " + cursor, cursor + "\x00",
		"+" + cursor[1:], cursor[:len(cursor)/2] + "/" + cursor[len(cursor)/2+1:],
	}
	for _, n := range []int{1, 2, 3, 4, len(cursor) / 2} {
		if n < len(cursor) {
			out = append(out, cursor[:len(cursor)-n])
		}
	}
	if raw, err := base64.RawURLEncoding.DecodeString(cursor); err == nil {
		out = append(out,
			base64.URLEncoding.EncodeToString(raw),
			base64.StdEncoding.EncodeToString(raw),
			base64.RawURLEncoding.EncodeToString(append(raw, ' ')),
			base64.RawURLEncoding.EncodeToString(append([]byte{' '}, raw...)),
			base64.RawURLEncoding.EncodeToString(append(raw[:len(raw):len(raw)], `,"x":1}`...)),
		)
		// The last character's unused low bits set: same bytes, another cursor.
		if rem := len(cursor) % 4; rem == 2 || rem == 3 {
			const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
			i := strings.IndexByte(alphabet, cursor[len(cursor)-1])
			out = append(out, cursor[:len(cursor)-1]+string(alphabet[i|1]))
		}
	}
	// Padding adds nothing to a cursor whose length is a multiple of four.
	return slices.DeleteFunc(out, func(s string) bool { return s == cursor })
}

// wantRefused checks err is the cursor fault: 400 C015 on the cursor parameter.
func wantRefused(t *testing.T, err error) {
	t.Helper()
	if !errors.Is(err, page.ErrCursor) {
		t.Fatalf("err = %v, want ErrCursor", err)
	}
	f, ok := fault.As(err)
	if !ok || f.Code != "C015" || f.Field != "cursor" || api.Status(f.Kind) != http.StatusBadRequest {
		t.Fatalf("fault = %+v, want 400 C015 on cursor", f)
	}
}

// sameKey compares keys field by field; times as instants at the same offset.
func sameKey(t *testing.T, want, got fuzzKey) {
	t.Helper()
	if got.Text != want.Text || got.Price != want.Price || got.ID != want.ID || (got.Time == nil) != (want.Time == nil) {
		t.Fatalf("key = %+v, want %+v", got, want)
	}
	if want.Time == nil {
		return
	}
	_, wantOff := want.Time.Zone()
	_, gotOff := got.Time.Zone()
	if !got.Time.Equal(*want.Time) || gotOff != wantOff {
		t.Fatalf("key time = %v, want %v", got.Time, want.Time)
	}
}
