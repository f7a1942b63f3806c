package chatserver

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"
	"go.opentelemetry.io/otel/codes"

	"github.com/8949market/market/shared/chat"
)

// hub is a replica's index of which local connections are in which room, and its one
// Redis subscription carrying the rooms' notices from other replicas. Notices published
// here are delivered locally at once and skipped when Redis echoes them back.
type hub struct {
	rdb    *redis.Client
	ps     *redis.PubSub
	origin string

	// mu guards rooms and orders every SUBSCRIBE/UNSUBSCRIBE, so a room's subscription
	// is never dropped under a connection that just joined.
	mu    sync.Mutex
	rooms map[uuid.UUID]*hubRoom
	done  chan struct{}
}

type hubRoom struct {
	conns map[*conn]struct{}
	// ready is closed when Redis confirms the subscription: only then may a joining
	// connection read the backlog, or a message published between the read and the
	// subscription would reach it by neither path.
	ready      chan struct{}
	subscribed bool
}

func newHub(rdb *redis.Client) *hub {
	h := &hub{
		rdb:    rdb,
		origin: uuid.NewString(),
		rooms:  map[uuid.UUID]*hubRoom{},
		done:   make(chan struct{}),
	}
	// Subscribing to nothing opens the connection lazily; rooms are added as they are
	// joined. go-redis pings it and resubscribes after a reconnection.
	h.ps = rdb.Subscribe(context.Background())
	return h
}

// run dispatches notices until ctx ends, and every minute drops the subscriptions of
// rooms no local connection is in.
func (h *hub) run(ctx context.Context) {
	defer close(h.done)
	ch := h.ps.ChannelWithSubscriptions(redis.WithChannelSize(4096), redis.WithChannelHealthCheckInterval(5*time.Second))
	sweep := time.NewTicker(time.Minute)
	defer sweep.Stop()
	for {
		select {
		case <-ctx.Done():
			_ = h.ps.Close()
			return
		case <-sweep.C:
			h.sweep(ctx)
		case m, ok := <-ch:
			if !ok {
				return
			}
			switch m := m.(type) {
			case *redis.Subscription:
				if m.Kind == "subscribe" {
					h.confirmed(m.Channel)
				}
			case *redis.Message:
				h.received(m.Payload)
			}
		}
	}
}

// join adds c to the room and returns once the replica receives the room's notices.
func (h *hub) join(ctx context.Context, roomID uuid.UUID, c *conn) error {
	h.mu.Lock()
	r := h.rooms[roomID]
	if r == nil {
		r = &hubRoom{conns: map[*conn]struct{}{}, ready: make(chan struct{})}
		h.rooms[roomID] = r
		if err := h.ps.Subscribe(ctx, chat.Channel(roomID)); err != nil {
			delete(h.rooms, roomID)
			h.mu.Unlock()
			return fmt.Errorf("subscribe to room %s: %w", roomID, err)
		}
	}
	r.conns[c] = struct{}{}
	ready := r.ready
	h.mu.Unlock()
	select {
	case <-ready:
		return nil
	case <-ctx.Done():
		h.leave(roomID, c)
		return fmt.Errorf("subscribe to room %s: %w", roomID, ctx.Err())
	}
}

// leave removes c from the room; the subscription goes at the next sweep.
func (h *hub) leave(roomID uuid.UUID, c *conn) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if r := h.rooms[roomID]; r != nil {
		delete(r.conns, c)
	}
}

func (h *hub) sweep(ctx context.Context) {
	h.mu.Lock()
	defer h.mu.Unlock()
	var idle []string
	for id, r := range h.rooms {
		if len(r.conns) == 0 && r.subscribed {
			idle = append(idle, chat.Channel(id))
			delete(h.rooms, id)
		}
	}
	if len(idle) > 0 {
		if err := h.ps.Unsubscribe(ctx, idle...); err != nil {
			slog.Warn("chat: unsubscribe idle rooms", "rooms", len(idle), "error", err.Error())
		}
	}
}

// confirmed marks a room's subscription live. A confirmation for a room already live
// means go-redis reconnected and resubscribed: notices may have been lost meanwhile, so
// every connection in the room reads what it missed from PostgreSQL.
func (h *hub) confirmed(channel string) {
	id, err := uuid.Parse(strings.TrimPrefix(channel, chat.ChannelPrefix))
	if err != nil {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	r := h.rooms[id]
	if r == nil {
		return
	}
	if !r.subscribed {
		r.subscribed = true
		close(r.ready)
		return
	}
	for c := range r.conns {
		c.enqueue(item{catchUp: id})
	}
}

func (h *hub) received(payload string) {
	var n chat.Notice
	if err := json.Unmarshal([]byte(payload), &n); err != nil {
		slog.Warn("chat: undecodable notice", "error", err.Error())
		return
	}
	if n.Origin == h.origin {
		return
	}
	h.deliver(n)
}

// deliver hands n to the room's local connections and says how many.
func (h *hub) deliver(n chat.Notice) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	r := h.rooms[n.RoomID]
	if r == nil {
		return 0
	}
	for c := range r.conns {
		c.enqueue(item{notice: &n})
	}
	return len(r.conns)
}

// broadcast delivers n locally and publishes it to the other replicas, in a
// chat.broadcast span whose attribute market.chat.members counts the local connections
// handed it (the other replicas' are reached through Redis). A failed publish is logged,
// not returned: what it carried is in PostgreSQL, and the other replicas' connections find
// it by the gap it leaves or on reconnection.
func (h *hub) broadcast(ctx context.Context, n chat.Notice) {
	ctx, span := startBroadcast(ctx, string(n.Kind), n.RoomID)
	defer span.End()
	span.SetAttributes(attrMembers.Int(h.deliver(n)))
	n.Origin = h.origin
	// The message is stored whatever happens to the sender's connection now: its notice
	// goes out even if that connection has just closed.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	if err := chat.Publish(ctx, h.rdb, n); err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, "fan-out failed")
		slog.WarnContext(ctx, "chat: fan-out failed; other replicas catch up from the database", "room", n.RoomID, "error", err.Error())
	}
}
