package chatserver_test

import (
	"net/http"
	"sync"
	"testing"

	"github.com/google/uuid"

	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/chat"
	"github.com/8949market/market/shared/chat/chattest"
	"github.com/8949market/market/shared/devstack/stacktest"
	"github.com/8949market/market/shared/events"
	"github.com/8949market/market/shared/events/eventtest"
)

// trade-created opens one room per trade, with the trade's parties and product, however
// often it is delivered: the same event again, twenty copies at once, or another event
// for the same trade leave one room and one chat-room-created, and each event id one
// inbox row.
func TestTradeCreatedOpensOneRoom(t *testing.T) {
	t.Parallel()
	st := stacktest.Start(t)
	newTrade := func(t *testing.T) events.TradeData {
		return chattest.Trade(chattest.NewMember(t, st, auth.RoleUser).Identity, chattest.NewMember(t, st, auth.RoleUser).Identity)
	}
	wantOneRoom := func(t *testing.T, d events.TradeData) {
		t.Helper()
		if n := chattest.RoomCount(t, st, d.TradeID); n != 1 {
			t.Fatalf("%d rooms for the trade", n)
		}
		id := chattest.RoomOfTrade(t, st, d.TradeID)
		r := chattest.StoredRoom(t, st, id)
		if r.Status != chat.Trading || r.BuyerID != d.BuyerID || r.SellerID != d.SellerID || r.ProductID != d.ProductID ||
			r.ProductName != d.ProductName || r.BuyerNickname != d.BuyerNickname || r.SellerNickname != d.SellerNickname ||
			r.LastMessageID != 0 || r.ClosedAt != nil {
			t.Fatalf("room %+v for trade %+v", r, d)
		}
		if created := chattest.RoomsCreated(t, st, d.TradeID); len(created) != 1 || created[0].RoomID != id || created[0].TradeID != d.TradeID {
			t.Fatalf("chat-room-created %+v, want one for room %s", created, id)
		}
	}

	t.Run("redelivered", func(t *testing.T) {
		t.Parallel()
		d, event := newTrade(t), uuid.New()
		for range 3 {
			eventtest.MustDeliver(t, st, chattest.TradeCreated, events.TradeCreated, events.SourceTrades, event, d)
		}
		wantOneRoom(t, d)
		if n := eventtest.InboxRows(t, st.Kit.DB, chattest.TradeCreated, event); n != 1 {
			t.Fatalf("%d inbox rows", n)
		}
	})
	t.Run("twenty copies at once", func(t *testing.T) {
		t.Parallel()
		d, event := newTrade(t), uuid.New()
		start := make(chan struct{})
		statuses := make([]int, 20)
		var wg sync.WaitGroup
		for i := range statuses {
			wg.Go(func() {
				<-start
				statuses[i] = eventtest.Deliver(t, st, chattest.TradeCreated, events.TradeCreated, events.SourceTrades, event, d)
			})
		}
		close(start)
		wg.Wait()
		for i, s := range statuses {
			if s/100 != 2 {
				t.Fatalf("delivery %d answered %d", i, s)
			}
		}
		wantOneRoom(t, d)
		if n := eventtest.InboxRows(t, st.Kit.DB, chattest.TradeCreated, event); n != 1 {
			t.Fatalf("%d inbox rows", n)
		}
	})
	t.Run("another event for the trade", func(t *testing.T) {
		t.Parallel()
		d, first, second := newTrade(t), uuid.New(), uuid.New()
		eventtest.MustDeliver(t, st, chattest.TradeCreated, events.TradeCreated, events.SourceTrades, first, d)
		eventtest.MustDeliver(t, st, chattest.TradeCreated, events.TradeCreated, events.SourceTrades, second, d)
		wantOneRoom(t, d)
		for _, e := range []uuid.UUID{first, second} {
			if n := eventtest.InboxRows(t, st.Kit.DB, chattest.TradeCreated, e); n != 1 {
				t.Fatalf("%d inbox rows for %s", n, e)
			}
		}
	})
}

// A trade event the room cannot be made from is not acknowledged, so it is redelivered
// and, in the end, dead-lettered; nothing of it is kept, not even its inbox row.
func TestBadTradeEventsNotAcknowledged(t *testing.T) {
	t.Parallel()
	st := stacktest.Start(t)
	buyer, seller := chattest.NewMember(t, st, auth.RoleUser), chattest.NewMember(t, st, auth.RoleUser)
	with := func(change func(*events.TradeData)) events.TradeData {
		d := chattest.Trade(buyer.Identity, seller.Identity)
		change(&d)
		return d
	}
	cases := []struct {
		name            string
		function, topic string
		data            any
	}{
		{"no tradeId", chattest.TradeCreated, events.TradeCreated, with(func(d *events.TradeData) { d.TradeID = uuid.Nil })},
		{"no productId", chattest.TradeCreated, events.TradeCreated, with(func(d *events.TradeData) { d.ProductID = uuid.Nil })},
		{"no buyerId", chattest.TradeCreated, events.TradeCreated, with(func(d *events.TradeData) { d.BuyerID = uuid.Nil })},
		{"no sellerId", chattest.TradeCreated, events.TradeCreated, with(func(d *events.TradeData) { d.SellerID = uuid.Nil })},
		{"buyer is the seller", chattest.TradeCreated, events.TradeCreated, with(func(d *events.TradeData) { d.BuyerID = d.SellerID })},
		{"not a trade", chattest.TradeCreated, events.TradeCreated, "a trade, honest"},
		{"completed without tradeId", chattest.TradeCompleted, events.TradeCompleted, with(func(d *events.TradeData) { d.TradeID = uuid.Nil })},
		{"cancelled, buyer is the seller", chattest.TradeCancelled, events.TradeCancelled, with(func(d *events.TradeData) { d.BuyerID = d.SellerID })},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			event := uuid.New()
			if status := eventtest.Deliver(t, st, tc.function, tc.topic, events.SourceTrades, event, tc.data); status/100 == 2 {
				t.Fatalf("acknowledged (%d)", status)
			} else if status == http.StatusNotFound {
				t.Fatalf("answered %d: the function is not served", status)
			}
			if n := eventtest.InboxRows(t, st.Kit.DB, tc.function, event); n != 0 {
				t.Fatalf("%d inbox rows", n)
			}
			if d, ok := tc.data.(events.TradeData); ok {
				if n := chattest.RoomCount(t, st, d.TradeID); n != 0 {
					t.Fatalf("%d rooms for the trade", n)
				}
			}
		})
	}
	if n := len(chattest.MustListRooms(t, st, seller.Token, nil).Content); n != 0 {
		t.Fatalf("the seller has %d rooms", n)
	}
}
