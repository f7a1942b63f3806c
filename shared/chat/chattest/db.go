package chattest

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/8949market/market/shared/chat"
	"github.com/8949market/market/shared/devstack/stacktest"
	"github.com/8949market/market/shared/events"
)

// Stored returns the room's rows in chat.messages, by id.
func Stored(t testing.TB, st *stacktest.Stack, roomID uuid.UUID) []chat.Message {
	t.Helper()
	rows, err := st.Kit.DB.Query(context.Background(), `
		SELECT room_id, id, sender_id, sender_type, client_id, content, created_at
		  FROM chat.messages WHERE room_id = $1 ORDER BY id`, roomID)
	if err != nil {
		t.Fatalf("chattest: read messages: %v", err)
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (chat.Message, error) {
		var m chat.Message
		err := row.Scan(&m.RoomID, &m.ID, &m.SenderID, &m.SenderType, &m.ClientID, &m.Content, &m.CreatedAt)
		m.CreatedAt = m.CreatedAt.UTC()
		return m, err
	})
	if err != nil {
		t.Fatalf("chattest: read messages: %v", err)
	}
	return list
}

// StoredRoom returns the room's row in chat.rooms.
func StoredRoom(t testing.TB, st *stacktest.Stack, roomID uuid.UUID) chat.Room {
	t.Helper()
	r, err := chat.NewStore(st.Kit.DB).Room(context.Background(), roomID)
	if err != nil {
		t.Fatalf("chattest: read room %s: %v", roomID, err)
	}
	return r
}

// RoomCount counts the rooms of a trade.
func RoomCount(t testing.TB, st *stacktest.Stack, tradeID uuid.UUID) int {
	t.Helper()
	return count(t, st, `SELECT count(*) FROM chat.rooms WHERE trade_id = $1`, tradeID)
}

// InboxRows counts consumer's inbox rows for an event id.
func InboxRows(t testing.TB, st *stacktest.Stack, consumer string, eventID uuid.UUID) int {
	t.Helper()
	return count(t, st, `SELECT count(*) FROM messaging.inbox WHERE consumer = $1 AND event_id = $2`, consumer, eventID)
}

func count(t testing.TB, st *stacktest.Stack, query string, args ...any) int {
	t.Helper()
	var n int
	if err := st.Kit.DB.QueryRow(context.Background(), query, args...).Scan(&n); err != nil {
		t.Fatalf("chattest: %s: %v", query, err)
	}
	return n
}

// RoomsCreated returns the chat-room-created events written for a trade, in write order.
func RoomsCreated(t testing.TB, st *stacktest.Stack, tradeID uuid.UUID) []events.ChatRoomCreatedData {
	t.Helper()
	return outbox[events.ChatRoomCreatedData](t, st, events.ChatRoomCreated, "tradeId", tradeID)
}

// MessagesSent returns the chat-message-sent events written for a room, in write order.
func MessagesSent(t testing.TB, st *stacktest.Stack, roomID uuid.UUID) []events.ChatMessageSentData {
	t.Helper()
	return outbox[events.ChatMessageSentData](t, st, events.ChatMessageSent, "roomId", roomID)
}

// outbox decodes the payloads of the outbox rows of topic whose payload names id in
// field, checking that each comes from the chat domain.
func outbox[T any](t testing.TB, st *stacktest.Stack, topic, field string, id uuid.UUID) []T {
	t.Helper()
	rows, err := st.Kit.DB.Query(context.Background(), `
		SELECT source, payload FROM messaging.outbox WHERE topic = $1 AND payload->>$2 = $3 ORDER BY seq`,
		topic, field, id.String())
	if err != nil {
		t.Fatalf("chattest: read outbox: %v", err)
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (T, error) {
		var (
			source  string
			payload []byte
			d       T
		)
		if err := row.Scan(&source, &payload); err != nil {
			return d, err
		}
		if source != events.SourceChat {
			t.Errorf("chattest: %s from %q, want %q", topic, source, events.SourceChat)
		}
		return d, json.Unmarshal(payload, &d)
	})
	if err != nil {
		t.Fatalf("chattest: read outbox %s: %v", topic, err)
	}
	return list
}
