package chatserver_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	chatserver "github.com/8949market/market/chat-server"
	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/chat"
	"github.com/8949market/market/shared/chat/chattest"
	"github.com/8949market/market/shared/devstack/stacktest"
)

// The buyer and the seller talk both ways: each message is acknowledged to its sender with
// the next id of the room and the time it was stored, reaches both members in id order
// with the sender's side taken from the token, is a row of chat.messages, and is announced
// once as chat-message-sent. The room itself was announced once, as chat-room-created.
func TestMembersTalkBothWays(t *testing.T) {
	t.Parallel()
	st := stacktest.Start(t)
	room := chattest.Open(t, st)
	buyer := chattest.Dial(t, st.ChatURL, room.Buyer.Token)
	seller := chattest.Dial(t, st.ChatURL, room.Seller.Token)
	if j := buyer.Join(room.ID, nil); j.LastID == nil || *j.LastID != 0 || j.Room == nil || j.Room.ID != room.ID ||
		j.Room.Status != chat.Trading || j.Room.TradeID != room.Trade.TradeID {
		t.Fatalf("joined %+v (room %+v)", j, j.Room)
	}
	seller.Join(room.ID, nil)

	type said struct {
		from   *chattest.Client
		member chattest.Member
		side   chat.SenderType
		text   string
	}
	script := []said{
		{buyer, room.Buyer, chat.Buyer, "Is it still available?"},
		{seller, room.Seller, chat.Seller, "Yes, come by at six."},
		{buyer, room.Buyer, chat.Buyer, "Can you do 40?"},
		{seller, room.Seller, chat.Seller, "45 and it's yours."},
		{seller, room.Seller, chat.Seller, "Cash only."},
		{buyer, room.Buyer, chat.Buyer, "Deal — 안녕하세요 👋"},
	}
	acks := make([]chat.Message, len(script))
	for i, s := range script {
		before := time.Now()
		clientID := fmt.Sprintf("c-%d", i)
		ack := s.from.Send(room.ID, clientID, s.text)
		m := ack.Message
		if ack.RoomID == nil || *ack.RoomID != room.ID || ack.ClientID != clientID || ack.Duplicate || m == nil {
			t.Fatalf("ack %d: %+v", i, ack)
		}
		if m.ID != int64(i+1) || m.RoomID != room.ID || m.SenderID != s.member.UserID || m.SenderType != s.side ||
			m.ClientID != clientID || m.Content != s.text {
			t.Fatalf("ack %d carries %+v", i, m)
		}
		if m.CreatedAt.Before(before.Add(-time.Second)) || m.CreatedAt.After(time.Now().Add(time.Second)) {
			t.Fatalf("ack %d stored at %s, sent at %s", i, m.CreatedAt, before)
		}
		acks[i] = *m
	}
	for _, c := range []*chattest.Client{buyer, seller} {
		for i, f := range c.Messages(len(script)) {
			if got := *f.Message; !got.CreatedAt.Equal(acks[i].CreatedAt) || got.ID != acks[i].ID ||
				got.SenderID != acks[i].SenderID || got.SenderType != acks[i].SenderType || got.Content != acks[i].Content {
				t.Fatalf("message %d delivered as %+v, acknowledged as %+v", i, got, acks[i])
			}
		}
	}

	stored := chattest.Stored(t, st, room.ID)
	sent := chattest.MessagesSent(t, st, room.ID)
	if len(stored) != len(script) || len(sent) != len(script) {
		t.Fatalf("%d rows and %d chat-message-sent events, want %d", len(stored), len(sent), len(script))
	}
	for i, want := range acks {
		if got := stored[i]; got.ID != want.ID || got.SenderID != want.SenderID || got.SenderType != want.SenderType ||
			got.ClientID != want.ClientID || got.Content != want.Content || !got.CreatedAt.Equal(want.CreatedAt) {
			t.Errorf("row %d: %+v, acknowledged %+v", i, got, want)
		}
		if e := sent[i]; e.RoomID != room.ID || e.TradeID != room.Trade.TradeID || e.MessageID != want.ID ||
			e.SenderID != want.SenderID || e.SenderType != string(want.SenderType) || e.Message != want.Content ||
			!e.CreatedAt.Equal(want.CreatedAt) {
			t.Errorf("chat-message-sent %d: %+v, acknowledged %+v", i, e, want)
		}
	}
	if r := chattest.StoredRoom(t, st, room.ID); r.LastMessageID != int64(len(script)) || r.LastMessage == nil ||
		*r.LastMessage != script[len(script)-1].text {
		t.Errorf("room after the talk: last %d %v", r.LastMessageID, r.LastMessage)
	}
	if created := chattest.RoomsCreated(t, st, room.Trade.TradeID); len(created) != 1 ||
		created[0].RoomID != room.ID || created[0].TradeID != room.Trade.TradeID {
		t.Errorf("chat-room-created %+v, want one for room %s", created, room.ID)
	}
}

// The sender is the token's user, whatever the frame claims: senderId, senderType,
// userId and a whole message naming the other member are ignored, in both directions.
func TestForgedSenderIgnored(t *testing.T) {
	t.Parallel()
	st := stacktest.Start(t)
	for _, forger := range []chat.SenderType{chat.Buyer, chat.Seller} {
		t.Run(string(forger), func(t *testing.T) {
			t.Parallel()
			room := chattest.Open(t, st)
			me, other, theirSide := room.Buyer, room.Seller, chat.Seller
			if forger == chat.Seller {
				me, other, theirSide = room.Seller, room.Buyer, chat.Buyer
			}
			mine := chattest.Dial(t, st.ChatURL, me.Token)
			theirs := chattest.Dial(t, st.ChatURL, other.Token)
			mine.Join(room.ID, nil)
			theirs.Join(room.ID, nil)

			forged := fmt.Sprintf(`{"type":"send","roomId":%q,"clientId":"forged","content":"it was not me",`+
				`"senderId":%q,"senderType":%q,"userId":%q,`+
				`"message":{"roomId":%q,"id":99,"senderId":%q,"senderType":%q,"content":"spoof"}}`,
				room.ID, other.UserID, theirSide, other.UserID, room.ID, other.UserID, theirSide)
			if err := mine.WriteRaw([]byte(forged)); err != nil {
				t.Fatal(err)
			}
			ack := mine.Acks(1)[0]
			got := theirs.ExpectMessage(room.ID, 1).Message
			for what, m := range map[string]*chat.Message{"ack": ack.Message, "delivered": got} {
				if m.ID != 1 || m.SenderID != me.UserID || m.SenderType != forger || m.Content != "it was not me" {
					t.Errorf("%s: %+v, want message 1 from %s (%s)", what, m, me.UserID, forger)
				}
			}
			stored := chattest.Stored(t, st, room.ID)
			if len(stored) != 1 || stored[0].SenderID != me.UserID || stored[0].SenderType != forger {
				t.Fatalf("stored %+v, want one message from %s (%s)", stored, me.UserID, forger)
			}
			if sent := chattest.MessagesSent(t, st, room.ID); len(sent) != 1 || sent[0].SenderID != me.UserID ||
				sent[0].SenderType != string(forger) {
				t.Fatalf("chat-message-sent %+v", sent)
			}
		})
	}
}

// A client that comes back with the last id it saw gets exactly what it missed, in order,
// then the live messages; lastId 0 replays the whole room, a lastId beyond the room's last
// and no lastId replay nothing.
func TestReconnectReplaysMissed(t *testing.T) {
	t.Parallel()
	st := chattest.Start(t, chattest.Unlimited)

	t.Run("after the last id seen", func(t *testing.T) {
		t.Parallel()
		room, buyer, seller := chattest.Talking(t, st)
		sendN(t, seller, room, 1, 3)
		for id := int64(1); id <= 3; id++ {
			buyer.ExpectMessage(room.ID, id)
		}
		buyer.Drop()

		sendN(t, seller, room, 4, 10)
		again := chattest.Dial(t, st.ChatURL, room.Buyer.Token)
		if j := again.Join(room.ID, chattest.Ptr[int64](3)); *j.LastID != 10 {
			t.Fatalf("joined at %d, want 10", *j.LastID)
		}
		for id := int64(4); id <= 10; id++ {
			if f := again.ExpectMessage(room.ID, id); f.Message.Content != content(id) || f.Message.SenderType != chat.Seller {
				t.Fatalf("replayed %+v", f.Message)
			}
		}
		// Nothing more was replayed: the next frame is the next live message.
		sendN(t, seller, room, 11, 11)
		again.ExpectMessage(room.ID, 11)
	})
	t.Run("from zero", func(t *testing.T) {
		t.Parallel()
		room := chattest.Open(t, st)
		seller := chattest.Dial(t, st.ChatURL, room.Seller.Token)
		seller.Join(room.ID, nil)
		sendN(t, seller, room, 1, 5)
		buyer := chattest.Dial(t, st.ChatURL, room.Buyer.Token)
		buyer.Join(room.ID, chattest.Ptr[int64](0))
		for id := int64(1); id <= 5; id++ {
			buyer.ExpectMessage(room.ID, id)
		}
		sendN(t, seller, room, 6, 6)
		buyer.ExpectMessage(room.ID, 6)
	})
	t.Run("more than a replay page", func(t *testing.T) {
		t.Parallel()
		const missed = 450 // the server reads 200 at a time
		room := chattest.Open(t, st)
		seller := chattest.Dial(t, st.ChatURL, room.Seller.Token)
		seller.Join(room.ID, nil)
		for i := range missed {
			seller.Write(chatserver.Frame{Type: chatserver.TypeSend, RoomID: &room.ID, ClientID: fmt.Sprintf("m%d", i+1), Content: content(int64(i + 1))})
		}
		seller.Acks(missed)
		buyer := chattest.Dial(t, st.ChatURL, room.Buyer.Token)
		buyer.Join(room.ID, chattest.Ptr[int64](0))
		for id := int64(1); id <= missed; id++ {
			if f := buyer.ExpectMessage(room.ID, id); f.Message.Content != content(id) {
				t.Fatalf("replayed %+v", f.Message)
			}
		}
		sendN(t, seller, room, missed+1, missed+1)
		buyer.ExpectMessage(room.ID, missed+1)
	})
	t.Run("joined twice on one connection", func(t *testing.T) {
		t.Parallel()
		room := chattest.Open(t, st)
		seller := chattest.Dial(t, st.ChatURL, room.Seller.Token)
		seller.Join(room.ID, nil)
		sendN(t, seller, room, 1, 3)
		buyer := chattest.Dial(t, st.ChatURL, room.Buyer.Token)
		buyer.Join(room.ID, chattest.Ptr[int64](1))
		buyer.ExpectMessage(room.ID, 2)
		buyer.ExpectMessage(room.ID, 3)
		// Asking again from the start replays nothing this connection was given.
		buyer.Join(room.ID, chattest.Ptr[int64](0))
		sendN(t, seller, room, 4, 4)
		buyer.ExpectMessage(room.ID, 4)
	})
	for name, lastID := range map[string]*int64{"without last id": nil, "beyond the last": chattest.Ptr[int64](99)} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			room := chattest.Open(t, st)
			seller := chattest.Dial(t, st.ChatURL, room.Seller.Token)
			seller.Join(room.ID, nil)
			sendN(t, seller, room, 1, 4)
			buyer := chattest.Dial(t, st.ChatURL, room.Buyer.Token)
			if j := buyer.Join(room.ID, lastID); *j.LastID != 4 {
				t.Fatalf("joined at %d, want 4", *j.LastID)
			}
			sendN(t, seller, room, 5, 5)
			buyer.ExpectMessage(room.ID, 5)
		})
	}
}

// content is the text of message id in sendN's rooms.
func content(id int64) string { return fmt.Sprintf("message %d", id) }

// sendN sends the messages from..to of a room through c, each acknowledged with its id.
func sendN(t *testing.T, c *chattest.Client, room chattest.Room, from, to int64) {
	t.Helper()
	for id := from; id <= to; id++ {
		if ack := c.Send(room.ID, fmt.Sprintf("m%d", id), content(id)); ack.Message.ID != id {
			t.Fatalf("message %d acknowledged as %d", id, ack.Message.ID)
		}
	}
}

// A retried send (same client id) is stored once and acknowledged with the first copy,
// flagged duplicate, whether the retries come one after another or twenty at once over
// two connections of the same user; the other member sees it once, and the room goes on.
func TestRetriedSendStoredOnce(t *testing.T) {
	t.Parallel()
	st := chattest.Start(t, chattest.Unlimited)

	t.Run("sequential", func(t *testing.T) {
		t.Parallel()
		room, buyer, seller := chattest.Talking(t, st)
		first := buyer.Send(room.ID, "retry-me", "first try")
		before := chattest.StoredRoom(t, st, room.ID)
		again := buyer.Send(room.ID, "retry-me", "second try")
		if first.Duplicate || !again.Duplicate || again.Message.ID != first.Message.ID ||
			again.Message.Content != "first try" || !again.Message.CreatedAt.Equal(first.Message.CreatedAt) {
			t.Fatalf("first %+v (%+v), retry %+v (%+v)", first, first.Message, again, again.Message)
		}
		// The retry left the room as it was: its last message is the one stored.
		if after := chattest.StoredRoom(t, st, room.ID); after.LastMessageID != before.LastMessageID ||
			*after.LastMessage != "first try" || !after.LastMessageAt.Equal(*before.LastMessageAt) {
			t.Fatalf("after the retry the room's last message is %d %q at %v, was %d %q at %v", after.LastMessageID,
				*after.LastMessage, after.LastMessageAt, before.LastMessageID, *before.LastMessage, before.LastMessageAt)
		}
		// A client id is the sender's own: the seller's "retry-me" is a message of its own.
		theirs := seller.Send(room.ID, "retry-me", "not a retry")
		if theirs.Duplicate || theirs.Message.ID == first.Message.ID {
			t.Fatalf("the seller's send %+v (%+v)", theirs, theirs.Message)
		}
		seller.ExpectMessage(room.ID, first.Message.ID)
		seller.ExpectMessage(room.ID, theirs.Message.ID)
		if n := len(chattest.Stored(t, st, room.ID)); n != 2 {
			t.Fatalf("%d rows, want 2", n)
		}
		if n := len(chattest.MessagesSent(t, st, room.ID)); n != 2 {
			t.Fatalf("%d chat-message-sent, want 2", n)
		}
	})
	t.Run("twenty at once", func(t *testing.T) {
		t.Parallel()
		room := chattest.Open(t, st)
		phone := chattest.Dial(t, st.ChatURL, room.Buyer.Token)
		laptop := chattest.Dial(t, st.ChatURL, room.Buyer.Token)
		seller := chattest.Dial(t, st.ChatURL, room.Seller.Token)
		for _, c := range []*chattest.Client{phone, laptop, seller} {
			c.Join(room.ID, nil)
		}
		const senders = 20
		start := make(chan struct{})
		errs := make(chan error, senders)
		var wg sync.WaitGroup
		for i := range senders {
			c := phone
			if i%2 == 1 {
				c = laptop
			}
			wg.Go(func() {
				<-start
				errs <- c.WriteFrame(chatserver.Frame{Type: chatserver.TypeSend, RoomID: &room.ID, ClientID: "same", Content: "hello"})
			})
		}
		close(start)
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		acks := append(phone.Acks(senders/2), laptop.Acks(senders/2)...)
		firsts := 0
		for _, a := range acks {
			if a.Message.ID != acks[0].Message.ID || a.ClientID != "same" || a.Message.Content != "hello" ||
				a.Message.SenderID != room.Buyer.UserID {
				t.Fatalf("ack %+v (%+v), first ack %+v", a, a.Message, acks[0].Message)
			}
			if !a.Duplicate {
				firsts++
			}
		}
		if firsts != 1 {
			t.Fatalf("%d acks not flagged duplicate, want 1", firsts)
		}
		id := acks[0].Message.ID
		if stored := chattest.Stored(t, st, room.ID); len(stored) != 1 || stored[0].ID != id {
			t.Fatalf("stored %+v, want message %d only", stored, id)
		}
		if sent := chattest.MessagesSent(t, st, room.ID); len(sent) != 1 || sent[0].MessageID != id {
			t.Fatalf("chat-message-sent %+v, want one for message %d", sent, id)
		}
		// Every connection saw the message once, and the room goes on.
		next := seller.Send(room.ID, "after", "got it")
		for _, c := range []*chattest.Client{phone, laptop, seller} {
			c.ExpectMessage(room.ID, id)
			c.ExpectMessage(room.ID, next.Message.ID)
		}
	})
}

// Typing is relayed to the other member, and to none of the typist's own connections.
func TestTypingRelayedToTheOtherMember(t *testing.T) {
	t.Parallel()
	st := stacktest.Start(t)
	room := chattest.Open(t, st)
	buyer := chattest.Dial(t, st.ChatURL, room.Buyer.Token)
	buyer2 := chattest.Dial(t, st.ChatURL, room.Buyer.Token)
	seller := chattest.Dial(t, st.ChatURL, room.Seller.Token)
	for _, c := range []*chattest.Client{buyer, buyer2, seller} {
		c.Join(room.ID, nil)
	}
	buyer.Write(chatserver.Frame{Type: chatserver.TypeTyping, RoomID: &room.ID})
	if f := seller.Next(); f.Type != chatserver.TypeTyping || *f.RoomID != room.ID || f.UserID == nil || *f.UserID != room.Buyer.UserID {
		t.Fatalf("seller got %+v, want the buyer typing", f)
	}
	// The typist's connections get the next message first: no typing frame came before it
	// (its ack aside, which may come before or after the message).
	buyer.Write(chatserver.Frame{Type: chatserver.TypeSend, RoomID: &room.ID, ClientID: "t1", Content: "done typing"})
	buyer.Acks(1)
	for _, c := range []*chattest.Client{buyer, buyer2, seller} {
		if f := c.Next(); f.Type != chatserver.TypeMessage || f.Message.ID != 1 {
			t.Fatalf("got %+v, want message 1", f)
		}
	}
}

// A read mark sent over the WebSocket reaches the other member as a read frame; lastId is
// required.
func TestReadFrameRelayed(t *testing.T) {
	t.Parallel()
	st := stacktest.Start(t)
	room, buyer, seller := chattest.Talking(t, st)
	sendN(t, buyer, room, 1, 2)
	buyer.Messages(2)
	seller.Messages(2)

	seller.Write(chatserver.Frame{Type: chatserver.TypeRead, RoomID: &room.ID})
	if e := seller.ExpectError("C015"); e.Field != "lastId" {
		t.Fatalf("read without lastId: %+v", e)
	}
	seller.Write(chatserver.Frame{Type: chatserver.TypeRead, RoomID: &room.ID, LastID: chattest.Ptr[int64](2)})
	f := buyer.Expect(chatserver.TypeRead)
	if *f.RoomID != room.ID || *f.UserID != room.Seller.UserID || *f.LastID != 2 {
		t.Fatalf("read frame %+v", f)
	}
	if r := chattest.MustGetRoom(t, st, room.Seller.Token, room.ID); *r.LastReadID != 2 || *r.UnreadCount != 0 {
		t.Fatalf("seller's mark %d, unread %d", *r.LastReadID, *r.UnreadCount)
	}
}

// One connection serves several rooms, each delivered on its own; a room left is no
// longer delivered, nor open to sends, until joined again.
func TestRoomsOnOneConnection(t *testing.T) {
	t.Parallel()
	st := stacktest.Start(t)
	seller := chattest.NewMember(t, st, auth.RoleUser)
	first := chattest.OpenBetween(t, st, chattest.NewMember(t, st, auth.RoleUser), seller)
	second := chattest.OpenBetween(t, st, chattest.NewMember(t, st, auth.RoleUser), seller)
	c := chattest.Dial(t, st.ChatURL, seller.Token)
	c.Join(first.ID, nil)
	c.Join(second.ID, nil)
	b1 := chattest.Dial(t, st.ChatURL, first.Buyer.Token)
	b2 := chattest.Dial(t, st.ChatURL, second.Buyer.Token)
	b1.Join(first.ID, nil)
	b2.Join(second.ID, nil)

	b1.Send(first.ID, "x", "for the first room")
	b2.Send(second.ID, "x", "for the second room")
	want := map[uuid.UUID]string{first.ID: "for the first room", second.ID: "for the second room"}
	for _, f := range c.Messages(2) {
		if f.Message.ID != 1 || f.Message.Content != want[*f.RoomID] {
			t.Fatalf("room %s delivered %+v", *f.RoomID, f.Message)
		}
		delete(want, *f.RoomID)
	}
	b2.Messages(1)

	c.Write(chatserver.Frame{Type: chatserver.TypeLeave, RoomID: &first.ID})
	c.Write(chatserver.Frame{Type: chatserver.TypeSend, RoomID: &first.ID, ClientID: "y", Content: "left already"})
	c.ExpectError("CH009")
	b1.Send(first.ID, "y", "after the seller left")
	b2.Send(second.ID, "y", "still here?")
	// The left room's message never comes: the next frame is the other room's.
	c.ExpectMessage(second.ID, 2)
	c.Join(first.ID, chattest.Ptr[int64](1))
	c.ExpectMessage(first.ID, 2)
}

// The WebSocket works through the API origin too, as a browser on the site's origin
// reaches it.
func TestThroughTheAPIOrigin(t *testing.T) {
	t.Parallel()
	st := stacktest.Start(t)
	room := chattest.Open(t, st)
	buyer := chattest.Dial(t, st.URL, room.Buyer.Token)
	seller := chattest.Dial(t, st.ChatURL, room.Seller.Token)
	buyer.Join(room.ID, nil)
	seller.Join(room.ID, nil)
	ack := buyer.Send(room.ID, "p1", "via the proxy")
	seller.ExpectMessage(room.ID, ack.Message.ID)
}
