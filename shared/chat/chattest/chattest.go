// Package chattest drives the chat server from the outside for tests: rooms opened by
// delivering trade events, real WebSocket clients speaking the chat protocol, the REST
// routes, a second replica on the same stack, and readers of what the chat stores.
package chattest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/google/uuid"

	chatserver "github.com/8949market/market/chat-server"
	"github.com/8949market/market/shared/api"
	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/devstack/stacktest"
	"github.com/8949market/market/shared/events"
	"github.com/8949market/market/shared/events/eventtest"
)

// The chat server's event functions.
const (
	TradeCreated   = "chat-trade-created"
	TradeCompleted = "chat-trade-completed"
	TradeCancelled = "chat-trade-cancelled"
)

// Wait bounds every wait for a frame.
const Wait = 10 * time.Second

// Member is a user with a token.
type Member struct {
	Token string
	auth.Identity
}

// NewMember mints a token for a fresh user.
func NewMember(t testing.TB, st *stacktest.Stack, role auth.Role) Member {
	t.Helper()
	token, id := st.Token(t, role)
	return Member{Token: token, Identity: id}
}

// MemberOf is the user a token of the stack's (one a login answered) speaks for.
func MemberOf(t testing.TB, st *stacktest.Stack, token string) Member {
	t.Helper()
	who, err := st.Kit.Verifier.Verify(context.Background(), token)
	if err != nil {
		t.Fatalf("chattest: member of a token: %v", err)
	}
	return Member{Token: token, Identity: who}
}

// Room is a trade's room and its two members.
type Room struct {
	ID            uuid.UUID
	Trade         events.TradeData
	Buyer, Seller Member
}

// Open opens the room of a new trade between two fresh users, as trade-created does.
func Open(t testing.TB, st *stacktest.Stack) Room {
	t.Helper()
	return OpenBetween(t, st, NewMember(t, st, auth.RoleUser), NewMember(t, st, auth.RoleUser))
}

// OpenBetween opens the room of a new trade between buyer and seller.
func OpenBetween(t testing.TB, st *stacktest.Stack, buyer, seller Member) Room {
	t.Helper()
	d := Trade(buyer.Identity, seller.Identity)
	eventtest.MustDeliver(t, st, TradeCreated, events.TradeCreated, events.SourceTrades, uuid.New(), d)
	return Room{ID: RoomOfTrade(t, st, d.TradeID), Trade: d, Buyer: buyer, Seller: seller}
}

// Talking opens a room and connects its buyer and seller to the stack's chat server, both
// joined.
func Talking(t testing.TB, st *stacktest.Stack) (Room, *Client, *Client) {
	t.Helper()
	room := Open(t, st)
	buyer, seller := Dial(t, st.ChatURL, room.Buyer.Token), Dial(t, st.ChatURL, room.Seller.Token)
	buyer.Join(room.ID, nil)
	seller.Join(room.ID, nil)
	return room, buyer, seller
}

// Trade is the data of a new trade's events between buyer and seller.
func Trade(buyer, seller auth.Identity) events.TradeData {
	return events.TradeData{
		TradeID: uuid.New(), ReservationID: uuid.New(), ProductID: uuid.New(), ProductName: "Vintage camera " + uuid.NewString()[:6],
		SellerID: seller.UserID, SellerNickname: seller.Nickname, BuyerID: buyer.UserID, BuyerNickname: buyer.Nickname,
	}
}

// Close ends the room's trade with topic (trade-completed or trade-cancelled).
func (r Room) Close(t testing.TB, st *stacktest.Stack, topic string) {
	t.Helper()
	fn := TradeCompleted
	if topic == events.TradeCancelled {
		fn = TradeCancelled
	}
	eventtest.MustDeliver(t, st, fn, topic, events.SourceTrades, uuid.New(), r.Trade)
}

// RoomOfTrade reads the id of a trade's room.
func RoomOfTrade(t testing.TB, st *stacktest.Stack, tradeID uuid.UUID) uuid.UUID {
	t.Helper()
	var id uuid.UUID
	if err := st.Kit.DB.QueryRow(context.Background(), `SELECT id FROM chat.rooms WHERE trade_id = $1`, tradeID).Scan(&id); err != nil {
		t.Fatalf("chattest: room of trade %s: %v", tradeID, err)
	}
	return id
}

// Client is a WebSocket client of the chat protocol. WriteFrame, WriteRaw and
// WriteBinary may be called from any goroutine; the other methods from the test's only.
type Client struct {
	t  testing.TB
	ws *websocket.Conn
	// handshake is the server's answer to the upgrade.
	handshake *http.Response
	// frames holds every frame received, in order, until taken.
	frames chan chatserver.Frame
	// pending holds frames that overtook an awaited ack, for Next to return first.
	pending []chatserver.Frame
	done    chan struct{}
	err     error
}

// WSURL turns a server's http:// base into the chat WebSocket URL.
func WSURL(base string) string {
	return "ws" + strings.TrimPrefix(base, "http") + "/api/v1/chat/ws"
}

// Bearer is the Authorization header carrying token.
func Bearer(token string) http.Header { return http.Header{"Authorization": {"Bearer " + token}} }

// Dial connects to the chat server at base (http://host:port) with token in the
// Authorization header, failing the test if refused.
func Dial(t testing.TB, base, token string) *Client {
	t.Helper()
	return DialWith(t, base, Bearer(token), nil)
}

// DialWith connects with the given headers and subprotocols, failing the test if
// refused. The connection is closed when the test ends.
func DialWith(t testing.TB, base string, header http.Header, subprotocols []string) *Client {
	t.Helper()
	c, res, err := TryDial(context.Background(), WSURL(base), header, subprotocols)
	if err != nil {
		status := 0
		if res != nil {
			status = res.StatusCode
		}
		t.Fatalf("chattest: dial: %v (status %d)", err, status)
	}
	c.t = t
	t.Cleanup(func() { c.Close() })
	return c
}

// Refused dials wsURL (WSURL(base), perhaps with a query) and fails the test unless the
// handshake is refused with status and, when code is not empty, an error body with code.
func Refused(t testing.TB, wsURL string, header http.Header, subprotocols []string, status int, code string) {
	t.Helper()
	c, res, err := TryDial(context.Background(), wsURL, header, subprotocols)
	if err == nil {
		c.Close()
		t.Fatalf("chattest: dial accepted, want status %d %s", status, code)
	}
	if res == nil {
		t.Fatalf("chattest: dial failed without an answer (%v), want status %d %s", err, status, code)
	}
	if res.StatusCode != status {
		t.Fatalf("chattest: dial answered %d, want %d %s", res.StatusCode, status, code)
	}
	if code != "" {
		var body api.ErrorBody
		if err := json.NewDecoder(res.Body).Decode(&body); err != nil || body.Code != code {
			t.Fatalf("chattest: dial refused with %+v (%v), want code %s", body, err, code)
		}
	}
}

// TryDial connects to wsURL (WSURL(base), perhaps with a query) with the given headers
// and subprotocols and returns the handshake's answer, also when refused. The client
// fails no test until DialWith binds it to one; TryDial's callers only close it.
func TryDial(ctx context.Context, wsURL string, header http.Header, subprotocols []string) (*Client, *http.Response, error) {
	ws, res, err := websocket.Dial(ctx, wsURL, &websocket.DialOptions{HTTPHeader: header, Subprotocols: subprotocols})
	if err != nil {
		return nil, res, err
	}
	ws.SetReadLimit(1 << 20)
	c := &Client{ws: ws, handshake: res, frames: make(chan chatserver.Frame, 100_000), done: make(chan struct{})}
	go c.receive()
	return c, res, nil
}

func (c *Client) receive() {
	defer close(c.done)
	for {
		_, data, err := c.ws.Read(context.Background())
		if err != nil {
			c.err = err
			return
		}
		var f chatserver.Frame
		if err := json.Unmarshal(data, &f); err != nil {
			c.err = fmt.Errorf("undecodable frame %q: %w", data, err)
			return
		}
		c.frames <- f
	}
}

// Subprotocol is the subprotocol the server chose.
func (c *Client) Subprotocol() string { return c.ws.Subprotocol() }

// Handshake is the server's answer to the upgrade.
func (c *Client) Handshake() *http.Response { return c.handshake }

// Close closes the connection normally.
func (c *Client) Close() { _ = c.ws.Close(websocket.StatusNormalClosure, "") }

// Drop cuts the connection without a closing handshake, as a lost network does.
func (c *Client) Drop() { _ = c.ws.CloseNow() }

// Write sends a frame, failing the test if it cannot.
func (c *Client) Write(f chatserver.Frame) {
	c.t.Helper()
	if err := c.WriteFrame(f); err != nil {
		c.t.Fatalf("chattest: write %s: %v", f.Type, err)
	}
}

// WriteFrame sends a frame.
func (c *Client) WriteFrame(f chatserver.Frame) error {
	raw, err := json.Marshal(f)
	if err != nil {
		return fmt.Errorf("encode %s frame: %w", f.Type, err)
	}
	return c.WriteRaw(raw)
}

// WriteRaw sends a text frame as is.
func (c *Client) WriteRaw(raw []byte) error { return c.write(websocket.MessageText, raw) }

// WriteBinary sends a binary frame.
func (c *Client) WriteBinary(raw []byte) error { return c.write(websocket.MessageBinary, raw) }

func (c *Client) write(typ websocket.MessageType, raw []byte) error {
	ctx, cancel := context.WithTimeout(context.Background(), Wait)
	defer cancel()
	return c.ws.Write(ctx, typ, raw)
}

// Next returns the next frame, failing the test if none comes within Wait.
func (c *Client) Next() chatserver.Frame {
	c.t.Helper()
	if len(c.pending) > 0 {
		f := c.pending[0]
		c.pending = c.pending[1:]
		return f
	}
	select {
	case f := <-c.frames:
		return f
	case <-c.done:
		select {
		case f := <-c.frames:
			return f
		default:
		}
		c.t.Fatalf("chattest: connection ended: %v", c.err)
	case <-time.After(Wait):
		c.t.Fatalf("chattest: no frame within %s", Wait)
	}
	return chatserver.Frame{}
}

// Buffered takes every frame received and not yet taken, without waiting for more.
func (c *Client) Buffered() []chatserver.Frame {
	out := c.pending
	c.pending = nil
	for {
		select {
		case f := <-c.frames:
			out = append(out, f)
		default:
			return out
		}
	}
}

// Expect returns the next frame of type typ, skipping typing and read notices, and fails
// on any other type.
func (c *Client) Expect(typ string) chatserver.Frame {
	c.t.Helper()
	for {
		f := c.Next()
		if f.Type == typ {
			return f
		}
		if f.Type == chatserver.TypeTyping || f.Type == chatserver.TypeRead {
			continue
		}
		c.t.Fatalf("chattest: got %s frame %+v, want %s", f.Type, f, typ)
	}
}

// ExpectError returns the next frame, skipping typing and read notices, failing unless
// it is an error frame with code.
func (c *Client) ExpectError(code string) chatserver.Frame {
	c.t.Helper()
	f := c.Expect(chatserver.TypeError)
	if f.Code != code {
		c.t.Fatalf("chattest: error frame %s (%s), want %s", f.Code, f.Error, code)
	}
	return f
}

// Closed waits for the server to close the connection and returns the close code.
func (c *Client) Closed() websocket.StatusCode {
	c.t.Helper()
	select {
	case <-c.done:
	case <-time.After(Wait):
		c.t.Fatalf("chattest: connection not closed within %s", Wait)
	}
	var ce websocket.CloseError
	if errors.As(c.err, &ce) {
		return ce.Code
	}
	return websocket.StatusCode(-1)
}

// Join joins a room (replaying after lastID when given) and returns the joined frame.
func (c *Client) Join(roomID uuid.UUID, lastID *int64) chatserver.Frame {
	c.t.Helper()
	c.Write(chatserver.Frame{Type: chatserver.TypeJoin, RoomID: &roomID, LastID: lastID})
	return c.Expect(chatserver.TypeJoined)
}

// Send sends a message with clientID and returns the ack.
func (c *Client) Send(roomID uuid.UUID, clientID, content string) chatserver.Frame {
	c.t.Helper()
	c.Write(chatserver.Frame{Type: chatserver.TypeSend, RoomID: &roomID, ClientID: clientID, Content: content})
	var overtook []chatserver.Frame
	defer func() { c.pending = append(overtook, c.pending...) }()
	for {
		f := c.Next()
		switch {
		case f.Type == chatserver.TypeAck && f.ClientID == clientID:
			return f
		case f.Type == chatserver.TypeError && f.ClientID == clientID:
			c.t.Fatalf("chattest: send %q refused: %s %s", content, f.Code, f.Error)
		}
		overtook = append(overtook, f)
	}
}

// ExpectMessage returns the next frame, skipping typing and read notices and acks (an ack
// answers one of the client's own sends and may come after the message it names),
// failing unless it is the message with id in room.
func (c *Client) ExpectMessage(roomID uuid.UUID, id int64) chatserver.Frame {
	c.t.Helper()
	f := c.Next()
	for f.Type == chatserver.TypeAck || f.Type == chatserver.TypeTyping || f.Type == chatserver.TypeRead {
		f = c.Next()
	}
	if f.Type != chatserver.TypeMessage {
		c.t.Fatalf("chattest: got %s frame %+v, want message %d", f.Type, f, id)
	}
	if f.RoomID == nil || *f.RoomID != roomID || f.Message == nil || f.Message.ID != id || f.Message.RoomID != roomID {
		c.t.Fatalf("chattest: message frame %+v (%+v), want message %d of room %s", f, f.Message, id, roomID)
	}
	return f
}

// Acks takes the next n ack frames, failing on an error frame; the other frames met on
// the way are kept, in order, for the following calls.
func (c *Client) Acks(n int) []chatserver.Frame {
	c.t.Helper()
	var acks, others []chatserver.Frame
	for len(acks) < n {
		f := c.Next()
		switch f.Type {
		case chatserver.TypeAck:
			acks = append(acks, f)
		case chatserver.TypeError:
			c.t.Fatalf("chattest: error frame while waiting for acks: %s %s", f.Code, f.Error)
		default:
			others = append(others, f)
		}
	}
	c.pending = append(others, c.pending...)
	return acks
}

// Messages takes the next n message frames, failing on an error frame.
func (c *Client) Messages(n int) []chatserver.Frame {
	c.t.Helper()
	out := make([]chatserver.Frame, 0, n)
	for len(out) < n {
		f := c.Next()
		switch f.Type {
		case chatserver.TypeMessage:
			out = append(out, f)
		case chatserver.TypeError:
			c.t.Fatalf("chattest: error frame while waiting for messages: %s %s", f.Code, f.Error)
		}
	}
	return out
}

// Ptr returns a pointer to v.
func Ptr[T any](v T) *T { return &v }
