package chatserver_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/google/uuid"

	chatserver "github.com/8949market/market/chat-server"
	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/chat"
	"github.com/8949market/market/shared/chat/chattest"
	"github.com/8949market/market/shared/config"
	"github.com/8949market/market/shared/devstack/stacktest"
	"github.com/8949market/market/shared/testenv"
)

// A frame the protocol refuses is answered with an error frame naming the documented code
// (and the field, and the clientId it answers) and stores nothing; the connection stays
// usable. The longest message is accepted, also in 4-byte characters.
func TestFrameRefusals(t *testing.T) {
	t.Parallel()
	st := stacktest.Start(t)
	send := func(clientID, content string) string {
		return fmt.Sprintf(`{"type":"send","roomId":%%q,"clientId":%q,"content":%q}`, clientID, content)
	}
	cases := []struct {
		name   string
		frame  string // %q is the room's id
		binary bool
		joined bool
		code   string // empty: accepted
		field  string
	}{
		{name: "2000 characters", frame: send("c", strings.Repeat("a", chat.MaxMessageRunes)), joined: true},
		{name: "2000 four-byte characters", frame: send("c", strings.Repeat("😀", chat.MaxMessageRunes)), joined: true},
		{name: "2001 characters", frame: send("c", strings.Repeat("a", chat.MaxMessageRunes+1)), joined: true, code: "CH005", field: "content"},
		{name: "2001 four-byte characters", frame: send("c", strings.Repeat("😀", chat.MaxMessageRunes+1)), joined: true, code: "CH005", field: "content"},
		{name: "blank", frame: send("c", " \n\t "), joined: true, code: "CH004", field: "content"},
		{name: "empty", frame: send("c", ""), joined: true, code: "CH004", field: "content"},
		{name: "no clientId", frame: send("", "hello"), joined: true, code: "CH007", field: "clientId"},
		{name: "clientId over 64", frame: send(strings.Repeat("c", chat.MaxClientIDLen+1), "hello"), joined: true, code: "CH007", field: "clientId"},
		{name: "send before join", frame: send("c", "hello"), code: "CH009"},
		{name: "typing before join", frame: `{"type":"typing","roomId":%q}`, code: "CH009"},
		{name: "unknown type", frame: `{"type":"shout","roomId":%q}`, joined: true, code: "CH008", field: "type"},
		{name: "unknown type without a room", frame: `{"type":"shout"}`, joined: true, code: "CH008", field: "type"},
		{name: "no type", frame: `{"roomId":%q}`, joined: true, code: "CH008", field: "type"},
		{name: "not JSON", frame: `hello`, joined: true, code: "CH008"},
		{name: "roomId not a UUID", frame: `{"type":"send","roomId":"room-1","clientId":"c","content":"hi"}`, joined: true, code: "CH011", field: "roomId"},
		{name: "content not a string", frame: `{"type":"send","roomId":%q,"clientId":"c","content":7}`, joined: true, code: "CH008", field: "content"},
		{name: "binary", frame: `{"type":"typing","roomId":%q}`, binary: true, joined: true, code: "CH008"},
		{name: "join without a room", frame: `{"type":"join"}`, code: "CH011", field: "roomId"},
		{name: "join an unknown room", frame: `{"type":"join","roomId":"` + uuid.NewString() + `"}`, code: "CH001"},
		{name: "join with a negative lastId", frame: `{"type":"join","roomId":%q,"lastId":-1}`, code: "C015", field: "lastId"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			room := chattest.Open(t, st)
			c := chattest.Dial(t, st.ChatURL, room.Buyer.Token)
			if tc.joined {
				c.Join(room.ID, nil)
			}
			frame := tc.frame
			if strings.Contains(frame, "%q") {
				frame = fmt.Sprintf(frame, room.ID)
			}
			write := c.WriteRaw
			if tc.binary {
				write = c.WriteBinary
			}
			if err := write([]byte(frame)); err != nil {
				t.Fatal(err)
			}
			if tc.code == "" {
				if ack := c.Acks(1)[0]; ack.Message.ID != 1 {
					t.Fatalf("ack %+v", ack.Message)
				}
				return
			}
			e := c.ExpectError(tc.code)
			if e.Field != tc.field {
				t.Errorf("field %q, want %q", e.Field, tc.field)
			}
			if strings.Contains(tc.frame, `"clientId":"c"`) && e.ClientID != "c" {
				t.Errorf("error frame answers %q, want the send's clientId", e.ClientID)
			}
			if n := len(chattest.Stored(t, st, room.ID)); n != 0 {
				t.Fatalf("%d messages stored", n)
			}
			// The connection is still in use.
			c.Join(room.ID, nil)
			if ack := c.Send(room.ID, "after", "still here"); ack.Message.ID != 1 {
				t.Fatalf("ack after the refusal %+v", ack.Message)
			}
		})
	}
	t.Run("frame over the read limit", func(t *testing.T) {
		t.Parallel()
		room := chattest.Open(t, st)
		c := chattest.Dial(t, st.ChatURL, room.Buyer.Token)
		c.Join(room.ID, nil)
		_ = c.WriteRaw([]byte(fmt.Sprintf(send("big", strings.Repeat("a", 4*chat.MaxMessageRunes+1024)), room.ID)))
		if code := c.Closed(); code != websocket.StatusMessageTooBig {
			t.Fatalf("closed with %d, want %d", code, websocket.StatusMessageTooBig)
		}
		if n := len(chattest.Stored(t, st, room.ID)); n != 0 {
			t.Fatalf("%d messages stored", n)
		}
	})
}

// A connection gets CHAT_BURST frames (here with no refill): each frame beyond is refused
// with CH006 and stores nothing; ten refusals in a row close the connection with 1008.
func TestFlood(t *testing.T) {
	t.Parallel()
	const burst = 5
	st := chattest.Start(t, func(cfg *config.Config) {
		cfg.ChatMessagesPerSecond, cfg.ChatBurst = 1e-9, burst
	})
	// flood joins, sends the rest of the burst, then n more sends, and returns the error
	// frames those got.
	flood := func(t *testing.T, c *chattest.Client, room chattest.Room, n int) []chatserver.Frame {
		t.Helper()
		c.Join(room.ID, nil)
		sendN(t, c, room, 1, burst-1)
		c.Messages(burst - 1)
		for i := range n {
			// The server may close before the last frames are written.
			_ = c.WriteFrame(chatserver.Frame{Type: chatserver.TypeSend, RoomID: &room.ID, ClientID: fmt.Sprintf("f%d", i), Content: "flood"})
		}
		var errs []chatserver.Frame
		for range min(n, 10) {
			errs = append(errs, c.ExpectError("CH006"))
		}
		for i, e := range errs {
			if e.ClientID != fmt.Sprintf("f%d", i) || *e.RoomID != room.ID {
				t.Fatalf("error %d answers %q in %v", i, e.ClientID, e.RoomID)
			}
		}
		if n := len(chattest.Stored(t, st, room.ID)); n != burst-1 {
			t.Fatalf("%d messages stored, want %d", n, burst-1)
		}
		return errs
	}

	t.Run("a few over", func(t *testing.T) {
		t.Parallel()
		room := chattest.Open(t, st)
		c := chattest.Dial(t, st.ChatURL, room.Buyer.Token)
		flood(t, c, room, 3)
		// Still open: the other member's message arrives.
		seller := chattest.Dial(t, st.ChatURL, room.Seller.Token)
		seller.Join(room.ID, nil)
		ack := seller.Send(room.ID, "s1", "slow down")
		c.ExpectMessage(room.ID, ack.Message.ID)
	})
	t.Run("persisting", func(t *testing.T) {
		t.Parallel()
		room := chattest.Open(t, st)
		c := chattest.Dial(t, st.ChatURL, room.Buyer.Token)
		flood(t, c, room, 14)
		if code := c.Closed(); code != websocket.StatusPolicyViolation {
			t.Fatalf("closed with %d, want %d", code, websocket.StatusPolicyViolation)
		}
	})
}

// A client that stops answering pings is dropped, and its connection stops counting
// against the user's limit.
func TestSilentClientDropped(t *testing.T) {
	t.Parallel()
	st := chattest.Start(t, func(cfg *config.Config) {
		cfg.ChatPingInterval, cfg.ChatWriteTimeout, cfg.ChatMaxConnsPerUser = 100*time.Millisecond, 300*time.Millisecond, 1
	})
	m := chattest.NewMember(t, st, auth.RoleUser)
	// A raw connection that never reads, so never answers a ping.
	ws, _, err := websocket.Dial(context.Background(), chattest.WSURL(st.ChatURL), &websocket.DialOptions{HTTPHeader: chattest.Bearer(m.Token)})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = ws.CloseNow() }()
	testenv.Eventually(t, chattest.Wait, "the silent connection's slot freed", func() bool {
		c, _, err := chattest.TryDial(context.Background(), chattest.WSURL(st.ChatURL), chattest.Bearer(m.Token), nil)
		if err != nil {
			return false
		}
		c.Close()
		return true
	})
}

// A client that stops reading cannot hold its room back: the other connections get every
// message on time, and the stalled one is cut off when a write times out or its queue
// fills (it would reconnect with its last id and miss nothing).
func TestSlowClientDoesNotStallRoom(t *testing.T) {
	t.Parallel()
	st := chattest.Start(t, func(cfg *config.Config) {
		chattest.Unlimited(cfg)
		// The write timeout is what cuts the stalled reader; it stays well above the
		// pauses a loaded machine gives the readers that do keep up (at 500 ms, the seller,
		// sent an ack and an 8 KB echo per message, was cut off on a busy CI run).
		cfg.ChatSendBuffer, cfg.ChatWriteTimeout, cfg.ChatPingInterval = 16, 2*time.Second, time.Hour
	})
	room, buyer, seller := chattest.Talking(t, st)

	// The buyer's second device joins and then never reads again.
	stalled, _, err := websocket.Dial(context.Background(), chattest.WSURL(st.ChatURL), &websocket.DialOptions{HTTPHeader: chattest.Bearer(room.Buyer.Token)})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = stalled.CloseNow() }()
	join := fmt.Sprintf(`{"type":"join","roomId":%q}`, room.ID)
	if err := stalled.Write(context.Background(), websocket.MessageText, []byte(join)); err != nil {
		t.Fatal(err)
	}
	connections := func() int {
		var h struct {
			Connections int `json:"connections"`
		}
		st.Do(t, "GET", "/api/v1/chat/healthz", nil, "").Data(t, &h)
		return h.Connections
	}
	testenv.Eventually(t, chattest.Wait, "three connections", func() bool { return connections() == 3 })

	// Far more than the kernel's socket buffers hold: 1,200 messages of 8 KB.
	const n = 1200
	content := strings.Repeat("𝄞", chat.MaxMessageRunes)
	for i := range n {
		seller.Write(chatserver.Frame{Type: chatserver.TypeSend, RoomID: &room.ID, ClientID: fmt.Sprint(i), Content: content})
	}
	got := buyer.Messages(n)
	for i, f := range got {
		if f.Message.ID != int64(i+1) {
			t.Fatalf("message %d has id %d", i, f.Message.ID)
		}
	}
	testenv.Eventually(t, chattest.Wait, "the stalled connection cut off", func() bool { return connections() == 2 })
}
