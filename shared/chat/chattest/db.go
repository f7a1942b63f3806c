package chattest

import (
	"context"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/8949market/market/shared/chat"
	"github.com/8949market/market/shared/devstack/stacktest"
	"github.com/8949market/market/shared/events"
	"github.com/8949market/market/shared/events/eventtest"
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

func count(t testing.TB, st *stacktest.Stack, query string, args ...any) int {
	t.Helper()
	var n int
	if err := st.Kit.DB.QueryRow(context.Background(), query, args...).Scan(&n); err != nil {
		t.Fatalf("chattest: %s: %v", query, err)
	}
	return n
}

// RoomsCreated returns the chat-room-created events written for a trade, in write order,
// checking that each comes from the chat domain.
func RoomsCreated(t testing.TB, st *stacktest.Stack, tradeID uuid.UUID) []events.ChatRoomCreatedData {
	t.Helper()
	var out []events.ChatRoomCreatedData
	for _, r := range fromChat(t, st, "", events.ChatRoomCreated) {
		var d events.ChatRoomCreatedData
		r.Decode(t, &d)
		if d.TradeID == tradeID {
			out = append(out, d)
		}
	}
	return out
}

// MessagesSent returns the chat-message-sent events written for a room, in write order,
// checking that each comes from the chat domain.
func MessagesSent(t testing.TB, st *stacktest.Stack, roomID uuid.UUID) []events.ChatMessageSentData {
	t.Helper()
	var out []events.ChatMessageSentData
	for _, r := range fromChat(t, st, roomID.String(), events.ChatMessageSent) {
		var d events.ChatMessageSentData
		r.Decode(t, &d)
		out = append(out, d)
	}
	return out
}

// fromChat is eventtest.Outbox, each row checked to come from the chat domain.
func fromChat(t testing.TB, st *stacktest.Stack, aggregateID, topic string) []eventtest.Row {
	t.Helper()
	rows := eventtest.Outbox(t, st.Kit.DB, aggregateID, topic)
	for _, r := range rows {
		if r.Source != events.SourceChat {
			t.Errorf("chattest: %s from %q, want %q", topic, r.Source, events.SourceChat)
		}
	}
	return rows
}
