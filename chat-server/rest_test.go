package chatserver_test

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/google/uuid"

	chatserver "github.com/8949market/market/chat-server"
	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/chat"
	"github.com/8949market/market/shared/chat/chattest"
	"github.com/8949market/market/shared/devstack/stacktest"
)

// GET /api/v1/chat/rooms lists the caller's rooms, as buyer and as seller, latest activity
// first, each with its last message and the caller's unread count; pages of any size walk
// the same list; q matches the product name and the nicknames; status keeps one state; an
// administrator lists anyone's rooms, nobody else may.
func TestListRooms(t *testing.T) {
	t.Parallel()
	st := stacktest.Start(t)
	me := chattest.NewMember(t, st, auth.RoleUser)
	asBuyer := chattest.OpenBetween(t, st, me, chattest.NewMember(t, st, auth.RoleUser))
	asSeller := chattest.OpenBetween(t, st, chattest.NewMember(t, st, auth.RoleUser), me)
	quiet := chattest.OpenBetween(t, st, me, chattest.NewMember(t, st, auth.RoleUser))
	chattest.Open(t, st) // someone else's

	// asBuyer: two messages from the seller; then asSeller: one of mine, one of the buyer's.
	talk := func(r chattest.Room, from chattest.Member, texts ...string) {
		c := chattest.Dial(t, st.ChatURL, from.Token)
		c.Join(r.ID, nil)
		for i, text := range texts {
			c.Send(r.ID, from.UserID.String()[:8]+string(rune('a'+i)), text)
		}
		c.Close()
	}
	talk(asBuyer, asBuyer.Seller, "first from the seller", "second from the seller")
	talk(asSeller, me, "mine")
	talk(asSeller, asSeller.Buyer, "the buyer answers")

	want := []struct {
		room   chattest.Room
		last   *string
		unread int64
	}{
		{asSeller, chattest.Ptr("the buyer answers"), 1},
		{asBuyer, chattest.Ptr("second from the seller"), 2},
		{quiet, nil, 0},
	}
	all := chattest.MustListRooms(t, st, me.Token, nil)
	if len(all.Content) != len(want) || all.HasNext || all.NextCursor != "" {
		t.Fatalf("list %+v, want %d rooms on one page", all, len(want))
	}
	for i, w := range want {
		got := all.Content[i]
		if got.ID != w.room.ID || got.UnreadCount == nil || *got.UnreadCount != w.unread ||
			(got.LastMessage == nil) != (w.last == nil) || (w.last != nil && *got.LastMessage != *w.last) ||
			got.TradeID != w.room.Trade.TradeID || got.ProductName != w.room.Trade.ProductName ||
			got.BuyerNickname != w.room.Buyer.Nickname || got.SellerNickname != w.room.Seller.Nickname {
			t.Fatalf("room %d: %+v (last %v, unread %v), want %s with last %v, unread %d",
				i, got, got.LastMessage, got.UnreadCount, w.room.ID, w.last, w.unread)
		}
	}
	ids := func(rooms []chat.Room) []uuid.UUID {
		out := make([]uuid.UUID, len(rooms))
		for i, r := range rooms {
			out[i] = r.ID
		}
		return out
	}
	wantIDs := func(t *testing.T, what string, got []chat.Room, rooms ...chattest.Room) {
		t.Helper()
		g := ids(got)
		if len(g) != len(rooms) {
			t.Fatalf("%s: %v, want %d rooms", what, g, len(rooms))
		}
		for i, r := range rooms {
			if g[i] != r.ID {
				t.Fatalf("%s: %v, want %s at %d", what, g, r.ID, i)
			}
		}
	}

	t.Run("pages of one", func(t *testing.T) {
		t.Parallel()
		wantIDs(t, "size=1", chattest.AllRooms(t, st, me.Token, nil, 1), asSeller, asBuyer, quiet)
		wantIDs(t, "size=2", chattest.AllRooms(t, st, me.Token, nil, 2), asSeller, asBuyer, quiet)
	})
	t.Run("search", func(t *testing.T) {
		t.Parallel()
		for q, rooms := range map[string][]chattest.Room{
			strings.ToUpper(asBuyer.Trade.ProductName): {asBuyer},
			asSeller.Buyer.Nickname[2:]:                {asSeller},
			strings.ToUpper(quiet.Seller.Nickname):     {quiet},
			me.Nickname:                                {asSeller, asBuyer, quiet},
			"no such thing":                            nil,
			"%":                                        nil, // LIKE's wildcards are literal
			"_":                                        nil,
			asBuyer.Trade.ProductName[:len("Vintage camera")]: {asSeller, asBuyer, quiet},
		} {
			wantIDs(t, "q="+q, chattest.AllRooms(t, st, me.Token, url.Values{"q": {q}}, 1), rooms...)
		}
	})
	t.Run("status", func(t *testing.T) {
		t.Parallel()
		wantIDs(t, "TRADING", chattest.MustListRooms(t, st, me.Token, url.Values{"status": {"trading"}}).Content, asSeller, asBuyer, quiet)
		wantIDs(t, "COMPLETED", chattest.MustListRooms(t, st, me.Token, url.Values{"status": {"COMPLETED"}}).Content)
	})
	t.Run("an administrator names the user", func(t *testing.T) {
		t.Parallel()
		admin := chattest.NewMember(t, st, auth.RoleManager)
		got := chattest.AllRooms(t, st, admin.Token, url.Values{"userId": {me.UserID.String()}}, 2)
		wantIDs(t, "admin", got, asSeller, asBuyer, quiet)
		if *got[0].UnreadCount != 1 || *got[1].UnreadCount != 2 {
			t.Fatalf("unread as the user sees it: %d, %d", *got[0].UnreadCount, *got[1].UnreadCount)
		}
		wantIDs(t, "admin's own", chattest.MustListRooms(t, st, admin.Token, nil).Content)
	})
	t.Run("a user names only themself", func(t *testing.T) {
		t.Parallel()
		wantIDs(t, "own userId", chattest.MustListRooms(t, st, me.Token, url.Values{"userId": {me.UserID.String()}}).Content,
			asSeller, asBuyer, quiet)
		chattest.ListRooms(t, st, asBuyer.Seller.Token, url.Values{"userId": {me.UserID.String()}}).
			RefusedOn(t, http.StatusForbidden, "C003", "userId")
	})
	t.Run("bad parameters", func(t *testing.T) {
		t.Parallel()
		other := chattest.MustListRooms(t, st, me.Token, url.Values{"size": {"1"}, "q": {"camera"}}).NextCursor
		for _, tc := range []struct {
			query url.Values
			field string
		}{
			{url.Values{"size": {"0"}}, "size"},
			{url.Values{"size": {"101"}}, "size"},
			{url.Values{"size": {"ten"}}, "size"},
			{url.Values{"cursor": {"not-a-cursor"}}, "cursor"},
			{url.Values{"cursor": {other}}, "cursor"}, // made for another query
			{url.Values{"status": {"OPEN"}}, "status"},
			{url.Values{"q": {strings.Repeat("q", 101)}}, "q"},
			{url.Values{"userId": {"me"}}, "userId"},
		} {
			chattest.ListRooms(t, st, me.Token, tc.query).RefusedOn(t, http.StatusBadRequest, "C015", tc.field)
		}
		// Text PostgreSQL cannot store or that is not UTF-8: C016, not a failed query.
		for _, q := range []string{"cam\x00era", "\x00", "cam\xffera", "\xc0\x80"} {
			chattest.ListRooms(t, st, me.Token, url.Values{"q": {q}}).RefusedOn(t, http.StatusBadRequest, "C016", "q")
		}
	})
}

// GET /api/v1/chat/rooms/{roomId}/messages pages backwards: each page oldest first, with
// nextBefore for the older page while there is one.
func TestHistoryPages(t *testing.T) {
	t.Parallel()
	st := stacktest.Start(t)
	room := chattest.Open(t, st)
	c := chattest.Dial(t, st.ChatURL, room.Buyer.Token)
	c.Join(room.ID, nil)
	sendN(t, c, room, 1, 7)

	page := func(query url.Values) chat.History {
		return chattest.MustHistory(t, st, room.Seller.Token, room.ID, query)
	}
	if h := page(nil); len(h.Messages) != 7 || h.HasMore || h.NextBefore != nil || h.Messages[0].ID != 1 || h.Messages[6].ID != 7 {
		t.Fatalf("default page %+v", h)
	}
	var walked []int64
	query := url.Values{"limit": {"3"}}
	for want := []int64{5, 2, 1}; len(want) > 0; want = want[1:] {
		h := page(query)
		if len(h.Messages) == 0 || h.Messages[0].ID != want[0] {
			t.Fatalf("page %v: %+v, want it to start at %d", query, h.Messages, want[0])
		}
		var ids []int64
		for _, m := range h.Messages {
			ids = append(ids, m.ID)
		}
		walked = append(ids, walked...)
		if more := len(want) > 1; h.HasMore != more || (h.NextBefore != nil) != more || (more && *h.NextBefore != want[0]) {
			t.Fatalf("page %v: hasMore %v, nextBefore %v", query, h.HasMore, h.NextBefore)
		}
		if h.NextBefore != nil {
			query.Set("before", strconv.FormatInt(*h.NextBefore, 10))
		}
	}
	for i, id := range walked {
		if id != int64(i+1) || len(walked) != 7 {
			t.Fatalf("walked %v, want 1..7", walked)
		}
	}
	if h := page(url.Values{"limit": {"7"}}); len(h.Messages) != 7 || h.HasMore {
		t.Fatalf("limit 7: %d messages, hasMore %v", len(h.Messages), h.HasMore)
	}
	if h := page(url.Values{"before": {"1"}}); len(h.Messages) != 0 || h.HasMore || h.NextBefore != nil {
		t.Fatalf("before the first: %+v", h)
	}
	empty := chattest.Open(t, st)
	if res := chattest.History(t, st, empty.Buyer.Token, empty.ID.String(), nil); !strings.Contains(string(res.Body), `"messages":[]`) {
		t.Fatalf("an empty room's history is not an empty list: %s", res.Body)
	}

	for _, tc := range []struct {
		roomID string
		query  url.Values
		status int
		code   string
		field  string
	}{
		{"nope", nil, http.StatusBadRequest, "CH011", "roomId"},
		{uuid.NewString(), nil, http.StatusNotFound, "CH001", ""},
		{room.ID.String(), url.Values{"before": {"0"}}, http.StatusBadRequest, "C015", "before"},
		{room.ID.String(), url.Values{"before": {"last"}}, http.StatusBadRequest, "C015", "before"},
		{room.ID.String(), url.Values{"limit": {"0"}}, http.StatusBadRequest, "C015", "limit"},
		{room.ID.String(), url.Values{"limit": {"201"}}, http.StatusBadRequest, "C015", "limit"},
	} {
		chattest.History(t, st, room.Seller.Token, tc.roomID, tc.query).RefusedOn(t, tc.status, tc.code, tc.field)
	}
	chattest.GetRoom(t, st, room.Seller.Token, "nope").RefusedOn(t, http.StatusBadRequest, "CH011", "roomId")
	chattest.GetRoom(t, st, room.Seller.Token, uuid.NewString()).Refused(t, http.StatusNotFound, "CH001")
}

// POST /api/v1/chat/rooms/{roomId}/read moves the caller's read mark up only, never past
// the last message; the unread count (the other member's messages after the mark) follows,
// and the other member's connection is told.
func TestMarkRead(t *testing.T) {
	t.Parallel()
	st := stacktest.Start(t)
	room := chattest.Open(t, st)
	seller := chattest.Dial(t, st.ChatURL, room.Seller.Token)
	seller.Join(room.ID, nil)
	sendN(t, seller, room, 1, 3)
	seller.Messages(3)

	unread := func(m chattest.Member) (mark, n int64) {
		r := chattest.MustGetRoom(t, st, m.Token, room.ID)
		return *r.LastReadID, *r.UnreadCount
	}
	if mark, n := unread(room.Buyer); mark != 0 || n != 3 {
		t.Fatalf("before reading: mark %d, unread %d", mark, n)
	}
	for _, step := range []struct{ lastID, mark, unread int64 }{
		{2, 2, 1},
		{1, 2, 1},  // never down
		{2, 2, 1},  // again
		{99, 3, 0}, // never past the last message
		{0, 3, 0},
	} {
		r := chattest.MustMarkRead(t, st, room.Buyer.Token, room.ID, step.lastID)
		if *r.LastReadID != step.mark || *r.UnreadCount != step.unread {
			t.Fatalf("read %d: mark %d, unread %d; want %d, %d", step.lastID, *r.LastReadID, *r.UnreadCount, step.mark, step.unread)
		}
		f := seller.Expect(chatserver.TypeRead)
		if *f.RoomID != room.ID || *f.UserID != room.Buyer.UserID || *f.LastID != step.mark {
			t.Fatalf("read frame %+v (last %d), want the buyer at %d", f, *f.LastID, step.mark)
		}
	}
	if p := chattest.MustListRooms(t, st, room.Buyer.Token, nil); *p.Content[0].UnreadCount != 0 || *p.Content[0].LastReadID != 3 {
		t.Fatalf("list after reading: unread %d, mark %d", *p.Content[0].UnreadCount, *p.Content[0].LastReadID)
	}

	// My own messages are never unread to me.
	buyer := chattest.Dial(t, st.ChatURL, room.Buyer.Token)
	buyer.Join(room.ID, nil)
	buyer.Send(room.ID, "b1", "read them all")
	if mark, n := unread(room.Buyer); mark != 3 || n != 0 {
		t.Fatalf("after my own message: mark %d, unread %d", mark, n)
	}
	if mark, n := unread(room.Seller); mark != 0 || n != 1 {
		t.Fatalf("seller: mark %d, unread %d", mark, n)
	}

	for _, tc := range []struct {
		roomID string
		body   any
		status int
		code   string
		field  string
	}{
		{room.ID.String(), map[string]any{}, http.StatusBadRequest, "C001", "lastId"},
		{room.ID.String(), map[string]any{"lastId": -1}, http.StatusBadRequest, "C015", "lastId"},
		{room.ID.String(), map[string]any{"lastId": "3"}, http.StatusBadRequest, "C010", ""},
		{room.ID.String(), map[string]any{"lastId": 3, "userId": room.Seller.UserID}, http.StatusBadRequest, "C009", ""},
		{room.ID.String(), "{", http.StatusBadRequest, "C008", ""},
		{"nope", map[string]any{"lastId": 1}, http.StatusBadRequest, "CH011", "roomId"},
		{uuid.NewString(), map[string]any{"lastId": 1}, http.StatusNotFound, "CH001", ""},
	} {
		chattest.MarkRead(t, st, room.Buyer.Token, tc.roomID, tc.body).RefusedOn(t, tc.status, tc.code, tc.field)
	}
	if mark, _ := unread(room.Buyer); mark != 3 {
		t.Fatalf("refused reads moved the mark to %d", mark)
	}
}
