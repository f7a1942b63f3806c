// Package chattest drives the chat server from the outside for tests: rooms opened by
// delivering trade events, and real WebSocket clients speaking the chat protocol.
package chattest

import (
	"bytes"
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
	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/devstack/stacktest"
	"github.com/8949market/market/shared/events"
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

// Room is a trade's room and its two members.
type Room struct {
	ID            uuid.UUID
	Trade         events.TradeData
	Buyer, Seller Member
}

// Open opens the room of a new trade between two fresh users, as trade-created does.
func Open(t testing.TB, st *stacktest.Stack) Room {
	t.Helper()
	buyer, seller := NewMember(t, st, auth.RoleUser), NewMember(t, st, auth.RoleUser)
	d := Trade(buyer.Identity, seller.Identity)
	MustDeliver(t, st, TradeCreated, events.TradeCreated, uuid.New(), d)
	return Room{ID: RoomOfTrade(t, st, d.TradeID), Trade: d, Buyer: buyer, Seller: seller}
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
	MustDeliver(t, st, fn, topic, uuid.New(), r.Trade)
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

// Deliver posts a trade event to one of the chat server's event functions through the
// stack, as the push bridge does, and returns the status.
func Deliver(t testing.TB, st *stacktest.Stack, function, topic string, id uuid.UUID, data any) int {
	t.Helper()
	raw, err := json.Marshal(data)
	if err != nil {
		t.Fatalf("chattest: encode event: %v", err)
	}
	req, err := http.NewRequest(http.MethodPost, st.URL+"/internal/functions/"+function, bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("chattest: %v", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("ce-specversion", "1.0")
	req.Header.Set("ce-id", id.String())
	req.Header.Set("ce-type", topic)
	req.Header.Set("ce-source", events.SourceTrades)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("chattest: deliver %s: %v", topic, err)
	}
	_ = res.Body.Close()
	return res.StatusCode
}

// MustDeliver delivers and fails the test unless the event is acknowledged.
func MustDeliver(t testing.TB, st *stacktest.Stack, function, topic string, id uuid.UUID, data any) {
	t.Helper()
	if status := Deliver(t, st, function, topic, id, data); status/100 != 2 {
		t.Fatalf("chattest: deliver %s to %s: status %d", topic, function, status)
	}
}

// Client is a WebSocket client of the chat protocol.
type Client struct {
	t  testing.TB
	ws *websocket.Conn
	// frames holds every frame received, in order, until taken.
	frames chan chatserver.Frame
	// pending holds frames that overtook an awaited ack, for Next to return first.
	pending []chatserver.Frame
	done    chan struct{}
	err    error
}

// WSURL turns a server's http:// base into the chat WebSocket URL.
func WSURL(base string) string {
	return "ws" + strings.TrimPrefix(base, "http") + "/api/v1/chat/ws"
}

// Dial connects to the chat server at base (http://host:port) with token in the
// Authorization header, failing the test if refused.
func Dial(t testing.TB, base, token string) *Client {
	t.Helper()
	c, res, err := TryDial(context.Background(), base, http.Header{"Authorization": {"Bearer " + token}}, nil)
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

// TryDial connects with the given headers and subprotocols and returns the handshake's
// response when refused.
func TryDial(ctx context.Context, base string, header http.Header, subprotocols []string) (*Client, *http.Response, error) {
	ws, res, err := websocket.Dial(ctx, WSURL(base), &websocket.DialOptions{HTTPHeader: header, Subprotocols: subprotocols})
	if err != nil {
		return nil, res, err
	}
	ws.SetReadLimit(1 << 20)
	c := &Client{ws: ws, frames: make(chan chatserver.Frame, 100_000), done: make(chan struct{})}
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

// Close closes the connection normally.
func (c *Client) Close() { _ = c.ws.Close(websocket.StatusNormalClosure, "") }

// Drop cuts the connection without a closing handshake, as a lost network does.
func (c *Client) Drop() { _ = c.ws.CloseNow() }

// Write sends a frame.
func (c *Client) Write(f chatserver.Frame) {
	c.t.Helper()
	if err := c.WriteRaw(mustJSON(c.t, f)); err != nil {
		c.t.Fatalf("chattest: write %s: %v", f.Type, err)
	}
}

// WriteRaw sends a text frame as is.
func (c *Client) WriteRaw(raw []byte) error {
	ctx, cancel := context.WithTimeout(context.Background(), Wait)
	defer cancel()
	return c.ws.Write(ctx, websocket.MessageText, raw)
}

func mustJSON(t testing.TB, v any) []byte {
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("chattest: encode: %v", err)
	}
	return raw
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
