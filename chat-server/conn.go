package chatserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"github.com/google/uuid"
	"go.opentelemetry.io/otel/trace"
	"golang.org/x/time/rate"

	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/chat"
	"github.com/8949market/market/shared/fault"
)

// maxStrikes is how many refused frames in a row (flooding, oversize content) a
// connection may send before it is closed with StatusPolicyViolation.
const maxStrikes = 10

// readLimit is the largest frame accepted: a message at its longest in 4-byte characters,
// plus the envelope. A larger frame closes the connection with StatusMessageTooBig.
const readLimit = chat.MaxMessageRunes*4 + 1024

// replayPage is how many missed messages are read from PostgreSQL at a time.
const replayPage = 200

// item is one unit of a connection's outgoing queue. Everything a connection is sent
// goes through the queue, in order, written by one goroutine; messages are delivered per
// room strictly by id.
type item struct {
	frame   *Frame       // written as is
	notice  *chat.Notice // a room's news from the hub
	join    *joinItem    // start delivering a room
	catchUp uuid.UUID    // read the room's missed messages from PostgreSQL
	leave   uuid.UUID    // stop delivering a room
	closing *closeItem   // write nothing more: close the connection
}

// closeItem is a close the writer carries out once the frames queued before it are
// written, after frame (which says why) if there is one.
type closeItem struct {
	code   websocket.StatusCode
	reason string
	frame  *Frame
}

type joinItem struct {
	room   chat.Room
	lastID *int64
}

// conn is one client's WebSocket.
type conn struct {
	s     *Server
	ws    *websocket.Conn
	id    string
	token string
	who   auth.Identity
	// upgrade is the span of the request that opened the connection, which every frame's
	// span links to.
	upgrade trace.SpanContext

	queue  chan item
	ctx    context.Context
	cancel context.CancelCauseFunc
	// closing is set by the first close, which is the one: a full queue, or more refused
	// frames, are not reported again.
	closing atomic.Bool
	// ended is set when the token no longer holds: from then on the writer writes nothing
	// of the rooms, only the frame that says why and the close.
	ended atomic.Bool
	// expiry ends the session at the token's expiry instant.
	expiry *time.Timer

	// Owned by the reader goroutine.
	joined  map[uuid.UUID]bool
	limiter *rate.Limiter
	strikes int

	// Owned by the writer goroutine: the last message id delivered per joined room.
	last map[uuid.UUID]int64
}

// enqueue hands it to the writer without ever blocking the caller (the hub, or another
// connection's send): a client too slow to keep up is cut off and, reconnecting with its
// last ids, misses nothing.
func (c *conn) enqueue(it item) {
	select {
	case c.queue <- it:
	default:
		c.close(CloseTooSlow, "too slow; reconnect with your last ids")
	}
}

// close ends the connection with code once the frames already queued are written, so the
// client sees the error or reconnect frame that explains the close before it; a queue too
// full to take the close is cut at once. The reader and writer then stop.
func (c *conn) close(code websocket.StatusCode, reason string) {
	c.closeWith(code, reason, nil)
}

// closeWith is close with a last frame written just before the close frame, or not at all
// when the queue is too full to take it.
func (c *conn) closeWith(code websocket.StatusCode, reason string, last *Frame) {
	if !c.closing.CompareAndSwap(false, true) {
		return
	}
	select {
	case c.queue <- item{closing: &closeItem{code: code, reason: reason, frame: last}}:
	default:
		go c.closeNow(code, reason)
	}
}

// errExpired ends a session at its token's expiry instant.
var errExpired = auth.ErrTokenInvalid.WithMessage("access token expired")

// errSessionEnded stops a write begun before the session ended.
var errSessionEnded = errors.New("session ended")

// endSession closes the connection because its token no longer holds (err says why: a
// C002 fault). Nothing of the rooms is written after this, even what is already queued:
// only an error frame with err, then the close with CloseTokenInvalid.
func (c *conn) endSession(err error) {
	if !c.ended.CompareAndSwap(false, true) {
		return
	}
	c.closeWith(CloseTokenInvalid, "access token expired or revoked", errorFrame(nil, "", err))
}

// verify checks the connection's token again: unrevoked, and unexpired by this server's
// clock (the verifier allows some clock skew past exp; a connection ends at exp itself).
func (c *conn) verify(ctx context.Context) error {
	if !time.Now().Before(c.who.ExpiresAt) {
		return errExpired
	}
	_, err := c.s.kit.Verifier.Verify(ctx, c.token)
	return err
}

// followToken acts on a verdict on the connection's token: a refusal ends the session; a
// verifier that cannot answer (fault C014) ends nothing, the next check decides.
func (c *conn) followToken(err error) (answered bool) {
	if err == nil {
		return true
	}
	if f, ok := fault.As(err); ok && f.Kind == fault.Unavailable {
		return false
	}
	c.endSession(err)
	return true
}

// closeNow closes the WebSocket with code, without waiting for the queue.
func (c *conn) closeNow(code websocket.StatusCode, reason string) {
	_ = c.ws.Close(code, reason)
	c.cancel(errors.New(reason))
}

// serve runs the connection until either side ends it.
func (c *conn) serve() {
	done := make(chan struct{})
	go func() {
		defer close(done)
		c.write()
	}()
	go c.ping()
	c.expiry = time.AfterFunc(time.Until(c.who.ExpiresAt), func() { c.endSession(errExpired) })
	defer c.expiry.Stop()
	c.read()
	// After a close of the server's own, the writer finishes first: the frames queued
	// before the close (the error that explains it) still go out.
	if !c.closing.Load() {
		c.cancel(nil)
	}
	<-done
	c.cancel(nil)
	for id := range c.joined {
		c.s.hub.leave(id, c)
	}
}

func (c *conn) read() {
	c.ws.SetReadLimit(readLimit)
	for {
		typ, data, err := c.ws.Read(c.ctx)
		if err != nil {
			var ce websocket.CloseError
			if !errors.As(err, &ce) && c.ctx.Err() == nil {
				slog.Debug("chat: read ended", "conn", c.id, "error", err.Error())
			}
			return
		}
		if c.ended.Load() {
			return // the close is on its way; no frame of an ended session counts
		}
		if !c.receive(typ, data, time.Now()) {
			return
		}
	}
}

// receive acts on one frame read at received, in the frame's span (startFrame), and
// answers its refusal if it is refused. It returns false when the connection must stop
// reading: its token no longer holds.
func (c *conn) receive(typ websocket.MessageType, data []byte, received time.Time) bool {
	var f Frame
	var err error
	if typ != websocket.MessageText {
		err = chat.ErrFrame.WithMessage("frames are JSON text")
	} else {
		f, err = DecodeFrame(data)
	}
	ctx, span := c.startFrame(f.Type, received)
	defer func() {
		countSend(ctx, &f, err)
		endFrame(span, &f, err)
	}()
	if err == nil && !c.limiter.Allow() {
		err = chat.ErrFlood
	}
	if err == nil {
		// The token is checked on every frame as well as every second
		// (Server.followTokens): no frame of a revoked or expired token is acted on.
		if err = c.verify(ctx); err != nil && c.followToken(err) {
			return false
		}
	}
	if err == nil {
		err = c.handle(ctx, f, received)
	}
	if err != nil {
		c.refuse(f.RoomID, f.ClientID, err) // a verifier that cannot answer too: try again
		return true
	}
	c.strikes = 0
	return true
}

// refuse answers a frame with an error and counts a strike for the client's own faults;
// too many in a row close the connection.
func (c *conn) refuse(roomID *uuid.UUID, clientID string, err error) {
	c.enqueue(item{frame: errorFrame(roomID, clientID, err)})
	var f *fault.Error
	if !errors.As(err, &f) || f.Kind == fault.Unavailable || f.Kind == fault.Internal {
		return
	}
	c.strikes++
	if c.strikes >= maxStrikes {
		c.close(websocket.StatusPolicyViolation, "too many refused frames")
	}
}

func errorFrame(roomID *uuid.UUID, clientID string, err error) *Frame {
	var f *fault.Error
	if !errors.As(err, &f) {
		slog.Error("chat: frame failed", "error", err.Error())
		f = fault.ErrInternal
	}
	countError(f.Code)
	return &Frame{Type: TypeError, RoomID: roomID, ClientID: clientID, Code: f.Code, Error: f.Message, Field: f.Field}
}

// handle acts on a decoded frame, read at received, within the frame's span (ctx).
func (c *conn) handle(ctx context.Context, f Frame, received time.Time) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	switch f.Type {
	case TypeJoin, TypeLeave, TypeSend, TypeRead, TypeTyping:
	default:
		// Said before any field is checked: an unknown type's fields mean nothing.
		return chat.ErrFrame.WithMessage("unknown frame type %q", f.Type).OnField("type")
	}
	if f.RoomID == nil {
		return chat.ErrRoomID
	}
	roomID := *f.RoomID
	switch f.Type {
	case TypeJoin:
		return c.join(ctx, roomID, f.LastID)
	case TypeLeave:
		if c.joined[roomID] {
			delete(c.joined, roomID)
			c.s.hub.leave(roomID, c)
			c.enqueue(item{leave: roomID})
		}
		return nil
	case TypeSend:
		if !c.joined[roomID] {
			return chat.ErrNotJoined
		}
		m, dup, err := c.s.store.Send(ctx, c.who, roomID, f.ClientID, f.Content)
		if err != nil {
			return err
		}
		c.enqueue(item{frame: &Frame{Type: TypeAck, RoomID: &roomID, ClientID: f.ClientID, Message: &m, Duplicate: dup}})
		if !dup {
			c.s.hub.broadcast(ctx, chat.Notice{Kind: chat.NoticeMessage, RoomID: roomID, Message: &m})
		}
		sent(ctx, received, dup)
		return nil
	case TypeRead:
		if !c.joined[roomID] {
			return chat.ErrNotJoined
		}
		if f.LastID == nil {
			return fault.ErrBadParameter.WithMessage("lastId is required").OnField("lastId")
		}
		r, err := c.s.store.MarkRead(ctx, c.who, roomID, *f.LastID)
		if err != nil {
			return err
		}
		c.s.hub.broadcast(ctx, chat.Notice{Kind: chat.NoticeRead, RoomID: roomID, UserID: c.who.UserID, LastReadID: *r.LastReadID})
		return nil
	case TypeTyping:
		if !c.joined[roomID] {
			return chat.ErrNotJoined
		}
		c.s.hub.broadcast(ctx, chat.Notice{Kind: chat.NoticeTyping, RoomID: roomID, UserID: c.who.UserID})
	}
	return nil
}

// join lets the connection into a room of its user's trade: it subscribes, then the
// writer replays what came after lastID (or, without one, starts from now).
func (c *conn) join(ctx context.Context, roomID uuid.UUID, lastID *int64) error {
	if lastID != nil && *lastID < 0 {
		return fault.ErrBadParameter.WithMessage("lastId must not be negative").OnField("lastId")
	}
	r, err := c.s.store.Room(ctx, roomID)
	if err != nil {
		return err
	}
	if _, member := r.Side(c.who.UserID); !member {
		return chat.ErrNotMember
	}
	if !c.joined[roomID] {
		if err := c.s.hub.join(ctx, roomID, c); err != nil {
			return fault.ErrUnavailable.Wrap(err)
		}
		c.joined[roomID] = true
	}
	// The room is read after the subscription is live: messages after r.LastMessageID
	// arrive as notices, and the writer fills any gap from PostgreSQL.
	if r, err = c.s.store.RoomFor(ctx, c.who, roomID); err != nil {
		return err
	}
	c.enqueue(item{join: &joinItem{room: r, lastID: lastID}})
	return nil
}

// write sends the queue to the client, one frame at a time, each within the write
// timeout.
func (c *conn) write() {
	for {
		select {
		case <-c.ctx.Done():
			return
		case it := <-c.queue:
			if it.closing != nil {
				if it.closing.frame != nil {
					_ = c.writeFrame(it.closing.frame)
				}
				c.closeNow(it.closing.code, it.closing.reason)
				return
			}
			if c.ended.Load() {
				continue // nothing of the rooms once the token no longer holds
			}
			if err := c.writeItem(it); err != nil {
				if errors.Is(err, errSessionEnded) {
					continue
				}
				if c.ctx.Err() == nil {
					slog.Debug("chat: write failed", "conn", c.id, "error", err.Error())
				}
				c.closeNow(websocket.StatusGoingAway, "write failed")
				return
			}
		}
	}
}

func (c *conn) writeItem(it item) error {
	switch {
	case it.frame != nil:
		return c.send(it.frame)
	case it.join != nil:
		r := it.join.room
		last := r.LastMessageID
		if it.join.lastID != nil {
			last = min(*it.join.lastID, r.LastMessageID)
		}
		if prev, ok := c.last[r.ID]; ok && prev > last {
			last = prev
		}
		c.last[r.ID] = last
		if err := c.send(&Frame{Type: TypeJoined, RoomID: &r.ID, Room: &r, LastID: &r.LastMessageID}); err != nil {
			return err
		}
		return c.catchUp(r.ID, -1)
	case it.catchUp != uuid.Nil:
		return c.catchUp(it.catchUp, -1)
	case it.leave != uuid.Nil:
		delete(c.last, it.leave)
		return nil
	case it.notice != nil:
		return c.writeNotice(it.notice)
	}
	return nil
}

func (c *conn) writeNotice(n *chat.Notice) error {
	last, joined := c.last[n.RoomID]
	if !joined {
		return nil // left, or not yet joined: the join replays from the database
	}
	switch n.Kind {
	case chat.NoticeMessage:
		switch id := n.Message.ID; {
		case id <= last:
			return nil // seen: a replay overtook its notice
		case id > last+1:
			// A notice was lost or overtaken: read the gap, in order, before this one. Ids
			// commit in order within a room, so all that will ever fill the gap is stored by
			// now; an id never used (a duplicate send's) is simply absent.
			if err := c.catchUp(n.RoomID, id-1); err != nil {
				return err
			}
		}
		c.last[n.RoomID] = n.Message.ID
		return c.send(&Frame{Type: TypeMessage, RoomID: &n.RoomID, Message: n.Message})
	case chat.NoticeTyping:
		if n.UserID == c.who.UserID {
			return nil
		}
		return c.send(&Frame{Type: TypeTyping, RoomID: &n.RoomID, UserID: &n.UserID})
	case chat.NoticeRead:
		return c.send(&Frame{Type: TypeRead, RoomID: &n.RoomID, UserID: &n.UserID, LastID: &n.LastReadID})
	case chat.NoticeClosed:
		return c.send(&Frame{Type: TypeClosed, RoomID: &n.RoomID, Status: n.Status})
	}
	return nil
}

// catchUp delivers the room's messages after the last one delivered, up to through (all
// when negative), from PostgreSQL.
func (c *conn) catchUp(roomID uuid.UUID, through int64) error {
	for {
		last, ok := c.last[roomID]
		if !ok || (through >= 0 && last >= through) {
			return nil
		}
		ctx, cancel := context.WithTimeout(c.ctx, 10*time.Second)
		list, err := c.s.store.After(ctx, roomID, last, replayPage)
		cancel()
		if err != nil {
			return fmt.Errorf("replay room %s: %w", roomID, err)
		}
		for i := range list {
			m := list[i]
			if through >= 0 && m.ID > through {
				return nil
			}
			c.last[roomID] = m.ID
			if err := c.send(&Frame{Type: TypeMessage, RoomID: &roomID, Message: &m}); err != nil {
				return err
			}
		}
		if len(list) < replayPage {
			return nil
		}
	}
}

// send writes a frame of the session; none once it has ended.
func (c *conn) send(f *Frame) error {
	if c.ended.Load() {
		return errSessionEnded
	}
	return c.writeFrame(f)
}

// writeFrame writes f within the write timeout.
func (c *conn) writeFrame(f *Frame) error {
	raw, err := json.Marshal(f)
	if err != nil {
		return fmt.Errorf("encode %s frame: %w", f.Type, err)
	}
	ctx, cancel := context.WithTimeout(c.ctx, c.s.kit.Config.ChatWriteTimeout)
	defer cancel()
	return c.ws.Write(ctx, websocket.MessageText, raw)
}

// ping keeps the connection's presence fresh and closes it when the client stops
// answering pings.
func (c *conn) ping() {
	t := time.NewTicker(c.s.kit.Config.ChatPingInterval)
	defer t.Stop()
	for {
		select {
		case <-c.ctx.Done():
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(c.ctx, c.s.kit.Config.ChatWriteTimeout)
			err := c.ws.Ping(ctx)
			cancel()
			if err != nil {
				c.close(websocket.StatusGoingAway, "no pong")
				return
			}
			if err := c.s.presence.refresh(c.ctx, c.who.UserID, c.id); err != nil {
				slog.Warn("chat: presence refresh", "conn", c.id, "error", err.Error())
			}
		}
	}
}
