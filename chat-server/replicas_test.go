package chatserver_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/coder/websocket"
	"golang.org/x/sync/errgroup"

	chatserver "github.com/8949market/market/chat-server"
	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/chat"
	"github.com/8949market/market/shared/chat/chattest"
	"github.com/8949market/market/shared/config"
	"github.com/8949market/market/shared/events"
)

// Two replicas on one PostgreSQL and one Redis serve one room: a message sent on either
// reaches a client on the other, and two hundred from each side at once reach every
// connection on both replicas in id order, without a gap or a duplicate.
func TestReplicasShareRooms(t *testing.T) {
	t.Parallel()
	st := chattest.Start(t, chattest.Unlimited)
	second := chattest.StartReplica(t, st)

	t.Run("each way", func(t *testing.T) {
		t.Parallel()
		room := chattest.Open(t, st)
		buyer := chattest.Dial(t, st.ChatURL, room.Buyer.Token)
		seller := chattest.Dial(t, second.URL, room.Seller.Token)
		buyer.Join(room.ID, nil)
		seller.Join(room.ID, nil)

		ack := buyer.Send(room.ID, "b1", "sent on the first")
		if f := seller.ExpectMessage(room.ID, ack.Message.ID); f.Message.Content != "sent on the first" || f.Message.SenderID != room.Buyer.UserID {
			t.Fatalf("second replica delivered %+v", f.Message)
		}
		ack = seller.Send(room.ID, "s1", "sent on the second")
		buyer.ExpectMessage(room.ID, 1)
		if f := buyer.ExpectMessage(room.ID, ack.Message.ID); f.Message.Content != "sent on the second" || f.Message.SenderType != chat.Seller {
			t.Fatalf("first replica delivered %+v", f.Message)
		}

		// The trade's end is consumed on the first replica; both hear of it.
		room.Close(t, st, events.TradeCompleted)
		seller.Messages(1) // its own
		for _, c := range []*chattest.Client{buyer, seller} {
			if f := c.Expect(chatserver.TypeClosed); f.Status != chat.Completed {
				t.Fatalf("closed frame %+v", f)
			}
		}
	})
	t.Run("two hundred from each side at once", func(t *testing.T) {
		t.Parallel()
		const each = 200
		room := chattest.Open(t, st)
		buyer := chattest.Dial(t, st.ChatURL, room.Buyer.Token)
		seller := chattest.Dial(t, second.URL, room.Seller.Token)
		buyerElsewhere := chattest.Dial(t, second.URL, room.Buyer.Token)
		sellerElsewhere := chattest.Dial(t, st.ChatURL, room.Seller.Token)
		clients := []*chattest.Client{buyer, seller, buyerElsewhere, sellerElsewhere}
		for _, c := range clients {
			c.Join(room.ID, nil)
		}

		start := make(chan struct{})
		var g errgroup.Group
		for side, c := range map[string]*chattest.Client{"b": buyer, "s": seller} {
			g.Go(func() error {
				<-start
				for i := range each {
					f := chatserver.Frame{Type: chatserver.TypeSend, RoomID: &room.ID, ClientID: fmt.Sprintf("%s-%03d", side, i), Content: fmt.Sprintf("%s says %d", side, i)}
					if err := c.WriteFrame(f); err != nil {
						return err
					}
				}
				return nil
			})
		}
		close(start)
		if err := g.Wait(); err != nil {
			t.Fatal(err)
		}

		for i, c := range clients {
			next := map[chat.SenderType]int{}
			for j, f := range c.Messages(2 * each) {
				m := f.Message
				if m.ID != int64(j+1) {
					t.Fatalf("client %d: message %d has id %d", i, j, m.ID)
				}
				// Each side's messages come in the order it sent them.
				side := map[chat.SenderType]string{chat.Buyer: "b", chat.Seller: "s"}[m.SenderType]
				if want := fmt.Sprintf("%s-%03d", side, next[m.SenderType]); m.ClientID != want {
					t.Fatalf("client %d: message %d is %s, want %s", i, m.ID, m.ClientID, want)
				}
				next[m.SenderType]++
			}
		}
		if n := len(chattest.Stored(t, st, room.ID)); n != 2*each {
			t.Fatalf("%d messages stored, want %d", n, 2*each)
		}
		// Nothing more was delivered: the next frame anyone sees is the next message.
		ack := buyer.Send(room.ID, "last", "the end")
		for _, c := range clients {
			c.ExpectMessage(room.ID, ack.Message.ID)
		}
	})
}

// A replica shutting down (SIGTERM) tells its clients to reconnect and closes them with
// 1012, then accepts no connection. Its connections no longer count against their users
// once it has drained, so a client reconnects elsewhere at once, with the last id it saw,
// and gets what was sent meanwhile.
func TestGracefulShutdown(t *testing.T) {
	t.Parallel()
	st := chattest.Start(t, func(cfg *config.Config) { cfg.ChatMaxConnsPerUser = 1 })
	leaving := chattest.StartReplica(t, st)
	room := chattest.Open(t, st)
	buyer := chattest.Dial(t, leaving.URL, room.Buyer.Token)
	idle := chattest.Dial(t, leaving.URL, chattest.NewMember(t, st, auth.RoleUser).Token) // in no room
	seller := chattest.Dial(t, st.ChatURL, room.Seller.Token)
	buyer.Join(room.ID, nil)
	seller.Join(room.ID, nil)
	seller.Send(room.ID, "s1", "before the restart")
	buyer.ExpectMessage(room.ID, 1)

	if err := leaving.Stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}
	for _, c := range []*chattest.Client{buyer, idle} {
		c.Expect(chatserver.TypeReconnect)
		if code := c.Closed(); code != websocket.StatusServiceRestart {
			t.Fatalf("closed with %d, want %d", code, websocket.StatusServiceRestart)
		}
	}
	if c, res, err := chattest.TryDial(context.Background(), chattest.WSURL(leaving.URL), chattest.Bearer(room.Buyer.Token), nil); err == nil {
		c.Close()
		t.Fatalf("a stopped replica accepted a connection (%d)", res.StatusCode)
	}

	seller.Send(room.ID, "s2", "while you were away")
	back := chattest.Dial(t, st.ChatURL, room.Buyer.Token)
	back.Join(room.ID, chattest.Ptr[int64](1))
	back.ExpectMessage(room.ID, 2)
}
