package chatroomcreated_test

import (
	"testing"

	"github.com/google/uuid"

	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/devstack/stacktest"
	"github.com/8949market/market/shared/events"
	"github.com/8949market/market/shared/events/eventtest"
	"github.com/8949market/market/shared/trades/tradetest"
)

// The consumer end to end: chat-room-created records the room on its trade, shown to
// both parties and administrators; a redelivery is recorded once (the trade keeps its
// first room, and a room for no trade changes nothing: shared/trades).
func TestRecordsRoom(t *testing.T) {
	t.Parallel()
	st := stacktest.Start(t)
	deal := tradetest.Open(t, st)
	room, id := uuid.New(), uuid.New()
	for range 2 {
		eventtest.MustDeliver(t, st, tradetest.ChatRoomCreated, events.ChatRoomCreated, events.SourceChat, id,
			events.ChatRoomCreatedData{RoomID: room, TradeID: deal.ID})
	}
	if n := eventtest.InboxRows(t, st.Kit.DB, tradetest.ChatRoomCreated, id); n != 1 {
		t.Fatalf("%d inbox rows", n)
	}
	for _, who := range []tradetest.User{deal.Buyer, deal.Seller, tradetest.NewUser(t, st, auth.RoleManager)} {
		if got := tradetest.MustGet(t, st, deal.ID, who.Token); got.ChatRoomID == nil || *got.ChatRoomID != room {
			t.Fatalf("chatRoomId %v, want %s", got.ChatRoomID, room)
		}
	}
	tradetest.WantTopics(t, st.Kit.DB, deal.ID, events.TradeCreated)
}
