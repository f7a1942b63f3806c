package chattest

import (
	"net/http"
	"net/url"
	"strconv"
	"testing"

	"github.com/google/uuid"

	"github.com/8949market/market/shared/chat"
	"github.com/8949market/market/shared/devstack/stacktest"
	"github.com/8949market/market/shared/page"
)

// RoomPath is the REST path of a room (roomID as given, so tests can pass a bad one) with
// suffix, e.g. "/messages".
func RoomPath(roomID, suffix string) string { return "/api/v1/chat/rooms/" + roomID + suffix }

// ListRooms is GET /api/v1/chat/rooms?query through the API origin.
func ListRooms(t testing.TB, st *stacktest.Stack, token string, query url.Values) stacktest.Response {
	t.Helper()
	path := "/api/v1/chat/rooms"
	if len(query) > 0 {
		path += "?" + query.Encode()
	}
	return st.Do(t, http.MethodGet, path, nil, token)
}

// MustListRooms lists rooms and fails the test unless the answer is a page.
func MustListRooms(t testing.TB, st *stacktest.Stack, token string, query url.Values) page.Page[chat.Room] {
	t.Helper()
	var p page.Page[chat.Room]
	must(t, ListRooms(t, st, token, query), &p)
	return p
}

// AllRooms walks every page of a room list of size rooms each and returns the rooms in
// order, failing on a page out of shape.
func AllRooms(t testing.TB, st *stacktest.Stack, token string, query url.Values, size int) []chat.Room {
	t.Helper()
	q := url.Values{}
	for k, v := range query {
		q[k] = v
	}
	q.Set("size", strconv.Itoa(size))
	var all []chat.Room
	for pages := 0; ; pages++ {
		if pages > 1000 {
			t.Fatalf("chattest: room list does not end")
		}
		p := MustListRooms(t, st, token, q)
		if len(p.Content) > size || p.HasNext != (p.NextCursor != "") || (p.HasNext && len(p.Content) != size) {
			t.Fatalf("chattest: page out of shape: %d rooms, hasNext %v, cursor %q", len(p.Content), p.HasNext, p.NextCursor)
		}
		all = append(all, p.Content...)
		if !p.HasNext {
			return all
		}
		q.Set("cursor", p.NextCursor)
	}
}

// GetRoom is GET /api/v1/chat/rooms/{roomId}.
func GetRoom(t testing.TB, st *stacktest.Stack, token, roomID string) stacktest.Response {
	t.Helper()
	return st.Do(t, http.MethodGet, RoomPath(roomID, ""), nil, token)
}

// MustGetRoom reads a room and fails the test unless it is answered.
func MustGetRoom(t testing.TB, st *stacktest.Stack, token string, roomID uuid.UUID) chat.Room {
	t.Helper()
	var r chat.Room
	must(t, GetRoom(t, st, token, roomID.String()), &r)
	return r
}

// History is GET /api/v1/chat/rooms/{roomId}/messages?query.
func History(t testing.TB, st *stacktest.Stack, token, roomID string, query url.Values) stacktest.Response {
	t.Helper()
	path := RoomPath(roomID, "/messages")
	if len(query) > 0 {
		path += "?" + query.Encode()
	}
	return st.Do(t, http.MethodGet, path, nil, token)
}

// MustHistory reads a page of history and fails the test unless it is answered.
func MustHistory(t testing.TB, st *stacktest.Stack, token string, roomID uuid.UUID, query url.Values) chat.History {
	t.Helper()
	var h chat.History
	must(t, History(t, st, token, roomID.String(), query), &h)
	return h
}

// MarkRead is POST /api/v1/chat/rooms/{roomId}/read with body.
func MarkRead(t testing.TB, st *stacktest.Stack, token, roomID string, body any) stacktest.Response {
	t.Helper()
	return st.Do(t, http.MethodPost, RoomPath(roomID, "/read"), body, token)
}

// MustMarkRead moves the caller's read mark to lastID and returns the room as answered.
func MustMarkRead(t testing.TB, st *stacktest.Stack, token string, roomID uuid.UUID, lastID int64) chat.Room {
	t.Helper()
	var r chat.Room
	must(t, MarkRead(t, st, token, roomID.String(), map[string]int64{"lastId": lastID}), &r)
	return r
}

func must(t testing.TB, res stacktest.Response, v any) {
	t.Helper()
	if res.Status != http.StatusOK {
		t.Fatalf("chattest: status %d: %s", res.Status, res.Body)
	}
	res.Data(t, v)
}
