package chatserver_test

import (
	"testing"

	"github.com/google/uuid"

	chatserver "github.com/8949market/market/chat-server"
	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/chat"
	"github.com/8949market/market/shared/chat/chattest"
	"github.com/8949market/market/shared/devstack/stacktest"
	"github.com/8949market/market/shared/events"
	"github.com/8949market/market/shared/events/eventtest"
)

// ends are the trade's two ends and the room state each leaves.
var ends = []struct {
	topic, function string
	status          chat.Status
	// The other end, which must not follow.
	otherTopic, otherFunction string
}{
	{events.TradeCompleted, chattest.TradeCompleted, chat.Completed, events.TradeCancelled, chattest.TradeCancelled},
	{events.TradeCancelled, chattest.TradeCancelled, chat.Cancelled, events.TradeCompleted, chattest.TradeCompleted},
}

// When its trade ends, a room refuses sends (CH003) and tells its connected members it
// closed; its history stays readable over REST and by a join, a retry of a message sent
// before the end is still answered with its first copy, a redelivered end changes
// nothing, and the other end is not acknowledged.
func TestClosedRoomRefusesSends(t *testing.T) {
	t.Parallel()
	st := stacktest.Start(t)
	for _, end := range ends {
		t.Run(end.topic, func(t *testing.T) {
			t.Parallel()
			room, buyer, seller := chattest.Talking(t, st)
			first := buyer.Send(room.ID, "b1", "before the end")
			buyer.Messages(1)
			seller.Messages(1)

			room.Close(t, st, end.topic)
			for _, c := range []*chattest.Client{buyer, seller} {
				if f := c.Expect(chatserver.TypeClosed); *f.RoomID != room.ID || f.Status != end.status {
					t.Fatalf("closed frame %+v, want %s", f, end.status)
				}
			}
			stored := chattest.StoredRoom(t, st, room.ID)
			if stored.Status != end.status || stored.ClosedAt == nil {
				t.Fatalf("room %s closed at %v, want %s", stored.Status, stored.ClosedAt, end.status)
			}

			for _, c := range []*chattest.Client{buyer, seller} {
				c.Write(chatserver.Frame{Type: chatserver.TypeSend, RoomID: &room.ID, ClientID: "late", Content: "after the end"})
				if e := c.ExpectError("CH003"); e.ClientID != "late" || *e.RoomID != room.ID {
					t.Fatalf("error frame %+v, want it to name the send", e)
				}
			}
			if again := buyer.Send(room.ID, "b1", "before the end"); !again.Duplicate || again.Message.ID != first.Message.ID {
				t.Fatalf("retry after the end: %+v (%+v)", again, again.Message)
			}
			if n := len(chattest.Stored(t, st, room.ID)); n != 1 {
				t.Fatalf("%d messages stored, want 1", n)
			}
			if n := len(chattest.MessagesSent(t, st, room.ID)); n != 1 {
				t.Fatalf("%d chat-message-sent, want 1", n)
			}

			// Read-only, not gone.
			for _, m := range []chattest.Member{room.Buyer, room.Seller} {
				if r := chattest.MustGetRoom(t, st, m.Token, room.ID); r.Status != end.status {
					t.Fatalf("room reads %s", r.Status)
				}
				if h := chattest.MustHistory(t, st, m.Token, room.ID, nil); len(h.Messages) != 1 || h.Messages[0].ID != first.Message.ID {
					t.Fatalf("history %+v", h)
				}
			}
			if r := chattest.MustMarkRead(t, st, room.Seller.Token, room.ID, 1); *r.UnreadCount != 0 {
				t.Fatalf("unread %d after reading everything", *r.UnreadCount)
			}
			later := chattest.Dial(t, st.ChatURL, room.Seller.Token)
			if j := later.Join(room.ID, chattest.Ptr[int64](0)); j.Room.Status != end.status {
				t.Fatalf("joined %+v", j.Room)
			}
			later.ExpectMessage(room.ID, first.Message.ID)

			// The same end again (another delivery) changes nothing; the other end is refused.
			eventtest.MustDeliver(t, st, end.function, end.topic, events.SourceTrades, uuid.New(), room.Trade)
			if again := chattest.StoredRoom(t, st, room.ID); again.Status != end.status || !again.ClosedAt.Equal(*stored.ClosedAt) {
				t.Fatalf("after a second %s: %s closed at %v, was %v", end.topic, again.Status, again.ClosedAt, stored.ClosedAt)
			}
			if status := eventtest.Deliver(t, st, end.otherFunction, end.otherTopic, events.SourceTrades, uuid.New(), room.Trade); status/100 == 2 {
				t.Fatalf("the other end was acknowledged (%d)", status)
			}
			if again := chattest.StoredRoom(t, st, room.ID); again.Status != end.status {
				t.Fatalf("the other end moved the room to %s", again.Status)
			}
		})
	}
}

// A trade's end that overtakes its creation (they travel on different topics) opens the
// room already closed, announced once; the late trade-created changes nothing.
func TestEndBeforeCreation(t *testing.T) {
	t.Parallel()
	st := stacktest.Start(t)
	for _, end := range ends {
		t.Run(end.topic, func(t *testing.T) {
			t.Parallel()
			room := chattest.Room{Buyer: chattest.NewMember(t, st, auth.RoleUser), Seller: chattest.NewMember(t, st, auth.RoleUser)}
			room.Trade = chattest.Trade(room.Buyer.Identity, room.Seller.Identity)
			eventtest.MustDeliver(t, st, end.function, end.topic, events.SourceTrades, uuid.New(), room.Trade)
			room.ID = chattest.RoomOfTrade(t, st, room.Trade.TradeID)
			if r := chattest.StoredRoom(t, st, room.ID); r.Status != end.status || r.ClosedAt == nil ||
				r.BuyerID != room.Buyer.UserID || r.SellerID != room.Seller.UserID || r.ProductName != room.Trade.ProductName {
				t.Fatalf("room opened by %s: %+v", end.topic, r)
			}

			eventtest.MustDeliver(t, st, chattest.TradeCreated, events.TradeCreated, events.SourceTrades, uuid.New(), room.Trade)
			if r := chattest.StoredRoom(t, st, room.ID); r.Status != end.status {
				t.Fatalf("trade-created reopened the room: %s", r.Status)
			}
			if n := chattest.RoomCount(t, st, room.Trade.TradeID); n != 1 {
				t.Fatalf("%d rooms for the trade", n)
			}
			if created := chattest.RoomsCreated(t, st, room.Trade.TradeID); len(created) != 1 || created[0].RoomID != room.ID {
				t.Fatalf("chat-room-created %+v, want one for %s", created, room.ID)
			}

			c := chattest.Dial(t, st.ChatURL, room.Buyer.Token)
			c.Join(room.ID, nil)
			c.Write(chatserver.Frame{Type: chatserver.TypeSend, RoomID: &room.ID, ClientID: "x", Content: "anyone?"})
			c.ExpectError("CH003")
			if h := chattest.MustHistory(t, st, room.Seller.Token, room.ID, nil); len(h.Messages) != 0 || h.HasMore {
				t.Fatalf("history %+v", h)
			}
		})
	}
}
