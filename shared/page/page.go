// Package page is keyset (cursor) pagination for list endpoints: an opaque cursor that
// names the last row of a page, a size read from the query with a default and a cap, and
// the page shape every list answers with.
//
//	size, err := page.Size(r, 20, 100)
//	var after struct{ CreatedAt time.Time; ID uuid.UUID }
//	ok, err := page.Decode(r.URL.Query().Get("cursor"), "users:createdAt:desc", &after)
package page

import (
	"encoding/base64"
	"encoding/json"
	"net/url"
	"strconv"

	"github.com/8949market/market/shared/fault"
)

// Page is one page of a list.
type Page[T any] struct {
	Content []T `json:"content"`
	Size    int `json:"size"`
	// NextCursor fetches the following page; empty on the last page.
	NextCursor string `json:"nextCursor,omitempty"`
	HasNext    bool   `json:"hasNext"`
}

// ErrCursor is a cursor the server did not make, or made for another query.
var ErrCursor = fault.ErrBadParameter.WithMessage("cursor is not valid for this query").OnField("cursor")

// ErrSize is a size out of range.
var ErrSize = fault.ErrBadParameter.OnField("size")

// Size reads the "size" query parameter: def when absent, 1..max otherwise. It takes
// the query's values, not the request, so domain use cases read it too.
func Size(q url.Values, def, max int) (int, error) {
	raw := q.Get("size")
	if raw == "" {
		return def, nil
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < 1 || n > max {
		return 0, ErrSize.WithMessage("size must be a whole number from 1 to %d", max)
	}
	return n, nil
}

type envelope struct {
	Q string          `json:"q"`
	K json.RawMessage `json:"k"`
}

// Encode makes the cursor for a page that ended at key, for the query named q (which
// includes the sort, so a cursor cannot be replayed against another order).
func Encode(q string, key any) string {
	cursor, err := encode(q, key)
	if err != nil {
		panic("page: cursor key does not marshal: " + err.Error()) // keys are plain structs
	}
	return cursor
}

func encode(q string, key any) (string, error) {
	k, err := json.Marshal(key)
	if err != nil {
		return "", err
	}
	raw, err := json.Marshal(envelope{Q: q, K: k})
	if err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(raw), nil
}

// Decode reads cursor into key. ok is false for an empty cursor (the first page); a
// cursor not made by Encode for query q is ErrCursor.
func Decode(cursor, q string, key any) (ok bool, err error) {
	if cursor == "" {
		return false, nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil {
		return false, ErrCursor
	}
	var e envelope
	if err := json.Unmarshal(raw, &e); err != nil || e.Q != q {
		return false, ErrCursor
	}
	if err := json.Unmarshal(e.K, key); err != nil {
		return false, ErrCursor
	}
	// Only Encode's own bytes: the same key spelled another way (spacing, field order,
	// extra fields, a null key, other base64 padding bits) or a key that does not encode
	// again (a +24:00 offset) is not a cursor the server made.
	if again, err := encode(q, key); err != nil || again != cursor {
		return false, ErrCursor
	}
	return true, nil
}

// Of builds the page from rows fetched with LIMIT size+1: the extra row, if any, only
// says that another page follows, and cursor makes the cursor from the last row shown.
func Of[T any](rows []T, size int, cursor func(last T) string) Page[T] {
	p := Page[T]{Content: rows, Size: size}
	if p.Content == nil {
		p.Content = []T{}
	}
	if len(rows) > size {
		p.Content = rows[:size]
		p.HasNext = true
		p.NextCursor = cursor(p.Content[size-1])
	}
	return p
}
