package chatroomcreated_test

import (
	"testing"

	"github.com/google/uuid"

	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/devstack/stacktest"
	"github.com/8949market/market/shared/events"
	"github.com/8949market/market/shared/trades/tradetest"
)

func deliver(t *testing.T, st *stacktest.Stack, eventID uuid.UUID, d events.ChatRoomCreatedData) {
	t.Helper()
	tradetest.MustDeliver(t, st, tradetest.ChatRoomCreated, events.ChatRoomCreated, events.SourceChat, eventID, d)
}

// chat-room-created records the room on its trade, shown to both parties; a redelivery
// changes nothing, and the trade announces nothing.
func TestRecordsRoom(t *testing.T) {
	t.Parallel()
	st := stacktest.Start(t)
	deal := tradetest.Open(t, st)
	room := uuid.New()
	id := uuid.New()
	deliver(t, st, id, events.ChatRoomCreatedData{RoomID: room, TradeID: deal.ID})
	deliver(t, st, id, events.ChatRoomCreatedData{RoomID: room, TradeID: deal.ID})
	if n := tradetest.InboxRows(t, st, tradetest.ChatRoomCreated, id); n != 1 {
		t.Fatalf("%d inbox rows", n)
	}
	for _, who := range []tradetest.User{deal.Buyer, deal.Seller, tradetest.NewUser(t, st, auth.RoleManager)} {
		if got := tradetest.MustGet(t, st, deal.ID, who.Token); got.ChatRoomID == nil || *got.ChatRoomID != room {
			t.Fatalf("chatRoomId %v, want %s", got.ChatRoomID, room)
		}
	}
	before := tradetest.Read(t, st, deal.ID)
	if before.Version != 0 || before.Status != "TRADING" {
		t.Fatalf("recording the room changed the trade: %+v", before)
	}
	tradetest.WantTopics(t, st, deal.ID, events.TradeCreated)

	// The room stays recorded through the trade's life.
	tradetest.MustComplete(t, st, deal.ID, deal.Buyer.Token)
	if got := tradetest.MustComplete(t, st, deal.ID, deal.Seller.Token); got.ChatRoomID == nil || *got.ChatRoomID != room {
		t.Fatalf("after completion chatRoomId %v, want %s", got.ChatRoomID, room)
	}

	// A room for a trade that does not exist is acknowledged and changes nothing.
	deliver(t, st, uuid.New(), events.ChatRoomCreatedData{RoomID: uuid.New(), TradeID: uuid.New()})
}

// A trade keeps its first room: a later chat-room-created under another event id does
// not move the parties to another room.
func TestKeepsFirstRoom(t *testing.T) {
	t.Parallel()
	st := stacktest.Start(t)
	deal := tradetest.Open(t, st)
	first := uuid.New()
	deliver(t, st, uuid.New(), events.ChatRoomCreatedData{RoomID: first, TradeID: deal.ID})
	deliver(t, st, uuid.New(), events.ChatRoomCreatedData{RoomID: uuid.New(), TradeID: deal.ID})
	if got := tradetest.Read(t, st, deal.ID); got.ChatRoomID == nil || *got.ChatRoomID != first {
		t.Fatalf("chatRoomId %v, want the first room %s", got.ChatRoomID, first)
	}
}
