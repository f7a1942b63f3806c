package chat_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/chat"
	"github.com/8949market/market/shared/events"
	"github.com/8949market/market/shared/fault"
	"github.com/8949market/market/shared/testenv"
)

type testBundle struct {
	db            *pgxpool.Pool
	store         *chat.Store
	trade         events.TradeData
	buyer, seller auth.Identity
}

// setup returns a fresh database and the data of a trade between two new users, whose
// room is not open yet.
func setup(t *testing.T) testBundle {
	t.Helper()
	db := testenv.DB(t)
	b := testBundle{db: db, store: chat.NewStore(db),
		buyer:  auth.Identity{UserID: uuid.New(), Nickname: "buyer", Role: auth.RoleUser},
		seller: auth.Identity{UserID: uuid.New(), Nickname: "seller", Role: auth.RoleUser},
	}
	b.trade = events.TradeData{TradeID: uuid.New(), ProductID: uuid.New(), ProductName: "Lamp",
		BuyerID: b.buyer.UserID, BuyerNickname: b.buyer.Nickname, SellerID: b.seller.UserID, SellerNickname: b.seller.Nickname}
	return b
}

// open opens the room of trade d at status, as the trade consumers do.
func (b testBundle) open(t *testing.T, d events.TradeData, status chat.Status) chat.Room {
	t.Helper()
	var room chat.Room
	err := pgx.BeginFunc(context.Background(), b.db, func(tx pgx.Tx) error {
		var err error
		room, err = chat.UpdateTx(context.Background(), tx, d, func(r *chat.Room) (bool, error) {
			if status == chat.Trading {
				return false, nil
			}
			return r.End(status, time.Now())
		})
		return err
	})
	if err != nil {
		t.Fatalf("open room: %v", err)
	}
	return room
}

func (b testBundle) count(t *testing.T, query string, args ...any) int {
	t.Helper()
	var n int
	if err := b.db.QueryRow(context.Background(), query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// Twenty deliveries of a trade's creation racing each other open one room, announced
// once (one racer created it); every one of them gets that room.
func TestOpenRoomRace(t *testing.T) {
	t.Parallel()
	b := setup(t)
	const racers = 20
	start := make(chan struct{})
	type result struct {
		room chat.Room
		err  error
	}
	results := make([]result, racers)
	var wg sync.WaitGroup
	for i := range racers {
		wg.Go(func() {
			<-start
			var r result
			r.err = pgx.BeginFunc(context.Background(), b.db, func(tx pgx.Tx) error {
				var err error
				r.room, err = chat.UpdateTx(context.Background(), tx, b.trade, func(*chat.Room) (bool, error) { return false, nil })
				return err
			})
			results[i] = r
		})
	}
	close(start)
	wg.Wait()
	for i, r := range results {
		if r.err != nil {
			t.Fatalf("racer %d: %v", i, r.err)
		}
		if r.room.ID != results[0].room.ID || r.room.TradeID != b.trade.TradeID {
			t.Fatalf("racer %d got room %s, racer 0 %s", i, r.room.ID, results[0].room.ID)
		}
	}
	if n := b.count(t, `SELECT count(*) FROM chat.rooms WHERE trade_id = $1`, b.trade.TradeID); n != 1 {
		t.Fatalf("%d rooms", n)
	}
	if n := b.count(t, `SELECT count(*) FROM messaging.outbox WHERE topic = $1 AND payload->>'tradeId' = $2`,
		events.ChatRoomCreated, b.trade.TradeID.String()); n != 1 {
		t.Fatalf("%d chat-room-created", n)
	}
}

// Twenty sends with one client id racing each other store one message: exactly one is
// answered as the original, the others with its copy, flagged duplicate.
func TestSendRetryRace(t *testing.T) {
	t.Parallel()
	b := setup(t)
	room := b.open(t, b.trade, chat.Trading)
	const racers = 20
	start := make(chan struct{})
	msgs, dups, errs := make([]chat.Message, racers), make([]bool, racers), make([]error, racers)
	var wg sync.WaitGroup
	for i := range racers {
		wg.Go(func() {
			<-start
			msgs[i], dups[i], errs[i] = b.store.Send(context.Background(), b.buyer, room.ID, "once", "hello")
		})
	}
	close(start)
	wg.Wait()
	originals := 0
	for i := range racers {
		if errs[i] != nil {
			t.Fatalf("racer %d: %v", i, errs[i])
		}
		if msgs[i].ID != msgs[0].ID || msgs[i].SenderID != b.buyer.UserID || msgs[i].SenderType != chat.Buyer ||
			!msgs[i].CreatedAt.Equal(msgs[0].CreatedAt) {
			t.Fatalf("racer %d: %+v, racer 0: %+v", i, msgs[i], msgs[0])
		}
		if !dups[i] {
			originals++
		}
	}
	if originals != 1 {
		t.Fatalf("%d originals, want 1", originals)
	}
	if n := b.count(t, `SELECT count(*) FROM chat.messages WHERE room_id = $1`, room.ID); n != 1 {
		t.Fatalf("%d messages stored", n)
	}
	if n := b.count(t, `SELECT count(*) FROM messaging.outbox WHERE topic = $1 AND payload->>'roomId' = $2`,
		events.ChatMessageSent, room.ID.String()); n != 1 {
		t.Fatalf("%d chat-message-sent", n)
	}
}

// Ids commit in order within a room: a reader that keeps asking for the messages after
// the last id it saw, while both members send at once, misses none.
func TestSendIDsCommitInOrder(t *testing.T) {
	t.Parallel()
	b := setup(t)
	room := b.open(t, b.trade, chat.Trading)
	ctx := context.Background()
	const each = 40
	start, sent := make(chan struct{}), make(chan struct{})
	errs := make(chan error, 2*each)
	var wg sync.WaitGroup
	for _, who := range []auth.Identity{b.buyer, b.seller} {
		for i := range each {
			wg.Go(func() {
				<-start
				_, _, err := b.store.Send(ctx, who, room.ID, fmt.Sprintf("%s-%d", who.Nickname, i), "hi")
				errs <- err
			})
		}
	}
	go func() {
		wg.Wait()
		close(sent)
	}()
	close(start)

	var seen []int64
	last := int64(0)
	for done := false; !done; {
		select {
		case <-sent:
			done = true // one more read after the last commit
		default:
		}
		list, err := b.store.After(ctx, room.ID, last, 1000)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range list {
			seen = append(seen, m.ID)
			last = m.ID
		}
	}
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	var stored []int64
	rows, err := b.db.Query(ctx, `SELECT id FROM chat.messages WHERE room_id = $1 ORDER BY id`, room.ID)
	if err != nil {
		t.Fatal(err)
	}
	if stored, err = pgx.CollectRows(rows, pgx.RowTo[int64]); err != nil {
		t.Fatal(err)
	}
	if len(stored) != 2*each || !slices.Equal(seen, stored) {
		t.Fatalf("the reader saw %v\nstored %v", seen, stored)
	}
}

// A send is refused with the reason: not a member, a closed room, no such room; and the
// content and client id rules come first.
func TestSendRefusals(t *testing.T) {
	t.Parallel()
	b := setup(t)
	room := b.open(t, b.trade, chat.Trading)
	ended := b.trade
	ended.TradeID = uuid.New()
	closedRoom := b.open(t, ended, chat.Completed)
	admin := auth.Identity{UserID: uuid.New(), Role: auth.RoleMaster}
	for _, tc := range []struct {
		name     string
		who      auth.Identity
		roomID   uuid.UUID
		clientID string
		content  string
		want     error
	}{
		{"stranger", auth.Identity{UserID: uuid.New(), Role: auth.RoleUser}, room.ID, "c", "hi", chat.ErrNotMember},
		{"administrator", admin, room.ID, "c", "hi", chat.ErrNotMember},
		{"closed room", b.buyer, closedRoom.ID, "c", "hi", chat.ErrRoomClosed},
		{"no such room", b.buyer, uuid.New(), "c", "hi", chat.ErrRoomNotFound},
		{"blank", b.buyer, room.ID, "c", "  ", chat.ErrEmptyMessage},
		{"too long", b.buyer, room.ID, "c", strings.Repeat("é", chat.MaxMessageRunes+1), chat.ErrMessageTooLong},
		{"no client id", b.buyer, room.ID, "", "hi", chat.ErrClientID},
		{"NUL in the content", b.buyer, room.ID, "c", "a\x00b", fault.ErrText},
		{"NUL in the client id", b.buyer, room.ID, "c\x00", "hi", fault.ErrText},
		{"content not UTF-8", b.buyer, room.ID, "c", "a\xffb", fault.ErrText},
	} {
		if _, _, err := b.store.Send(context.Background(), tc.who, tc.roomID, tc.clientID, tc.content); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
	if n := b.count(t, `SELECT count(*) FROM chat.messages`); n != 0 {
		t.Fatalf("%d messages stored", n)
	}
	if r, err := b.store.Room(context.Background(), room.ID); err != nil || r.LastMessageID != 0 || r.LastMessage != nil {
		t.Fatalf("refused sends changed the room: %+v, %v", r, err)
	}
}

// The message and client id rules, including what PostgreSQL cannot store (NUL) and what
// JSON cannot carry (invalid UTF-8): C016.
func TestCheckContent(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		content string
		want    error
	}{
		{"hi", nil},
		{strings.Repeat("가", chat.MaxMessageRunes), nil},
		{strings.Repeat("가", chat.MaxMessageRunes+1), chat.ErrMessageTooLong},
		{"", chat.ErrEmptyMessage},
		{"\u00a0\n\t ", chat.ErrEmptyMessage},
		{"bad \xff byte", fault.ErrText},
		{"NUL \x00 inside", fault.ErrText},
		{"\x00", fault.ErrText},
		{"overlong NUL \xc0\x80", fault.ErrText},
		{"encoded surrogate \xed\xa0\x80", fault.ErrText},
		{"replacement character \ufffd", nil},
	} {
		if err := chat.CheckContent(tc.content); !errors.Is(err, tc.want) {
			t.Errorf("CheckContent(%.20q) = %v, want %v", tc.content, err, tc.want)
		}
	}
	for _, tc := range []struct {
		id   string
		want error
	}{
		{"c", nil},
		{strings.Repeat("c", chat.MaxClientIDLen), nil},
		{strings.Repeat("c", chat.MaxClientIDLen+1), chat.ErrClientID},
		{"", chat.ErrClientID},
		{"\xff", fault.ErrText},
		{"c\x00", fault.ErrText},
	} {
		if err := chat.CheckClientID(tc.id); !errors.Is(err, tc.want) {
			t.Errorf("CheckClientID(%.20q) = %v, want %v", tc.id, err, tc.want)
		}
	}
}
