package chat

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/events"
	"github.com/8949market/market/shared/fault"
	"github.com/8949market/market/shared/outbox"
	"github.com/8949market/market/shared/page"
	"github.com/8949market/market/shared/postgres"
)

// Store reads and writes rooms and messages.
type Store struct {
	db *pgxpool.Pool
}

// NewStore returns a store on db.
func NewStore(db *pgxpool.Pool) *Store { return &Store{db: db} }

const roomColumns = `id, trade_id, product_id, product_name, seller_id, seller_nickname, buyer_id, buyer_nickname,
	status, last_message_id, last_message, last_message_at, created_at, closed_at, active_at`

func scanRoom(row pgx.Row, extra ...any) (Room, error) {
	var r Room
	dst := append([]any{&r.ID, &r.TradeID, &r.ProductID, &r.ProductName, &r.SellerID, &r.SellerNickname,
		&r.BuyerID, &r.BuyerNickname, &r.Status, &r.LastMessageID, &r.LastMessage, &r.LastMessageAt,
		&r.CreatedAt, &r.ClosedAt, &r.activeAt}, extra...)
	if err := row.Scan(dst...); err != nil {
		return Room{}, err
	}
	r.CreatedAt, r.activeAt = r.CreatedAt.UTC(), r.activeAt.UTC()
	if r.LastMessageAt != nil {
		t := r.LastMessageAt.UTC()
		r.LastMessageAt = &t
	}
	if r.ClosedAt != nil {
		t := r.ClosedAt.UTC()
		r.ClosedAt = &t
	}
	return r, nil
}

const messageColumns = `room_id, id, sender_id, sender_type, client_id, content, created_at`

func scanMessage(row pgx.CollectableRow) (Message, error) {
	var m Message
	err := row.Scan(&m.RoomID, &m.ID, &m.SenderID, &m.SenderType, &m.ClientID, &m.Content, &m.CreatedAt)
	m.CreatedAt = m.CreatedAt.UTC()
	return m, err
}

// UpdateTx runs change on the room of the trade d describes, under the room's row lock,
// inside the caller's transaction (the inbox's), and writes the room and the events it
// announces; if tx is rolled back, so is the change. A trade without a room gets one
// first (NewRoom, chat-room-created), once however often its events come: a trade's end
// that overtakes its creation (they travel on different topics) still gives the trade
// its room. change reports whether it changed the room; if not, only a new room is
// written.
func UpdateTx(ctx context.Context, tx pgx.Tx, d events.TradeData, change func(r *Room) (bool, error)) (Room, error) {
	fresh, err := NewRoom(d)
	if err != nil {
		return Room{}, err
	}
	tag, err := tx.Exec(ctx, `
		INSERT INTO chat.rooms (id, trade_id, product_id, product_name, seller_id, seller_nickname,
		                        buyer_id, buyer_nickname, status)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
		ON CONFLICT (trade_id) DO NOTHING`,
		fresh.ID, fresh.TradeID, fresh.ProductID, fresh.ProductName, fresh.SellerID, fresh.SellerNickname,
		fresh.BuyerID, fresh.BuyerNickname, fresh.Status)
	if err != nil {
		return Room{}, fmt.Errorf("open room for trade %s: %w", d.TradeID, err)
	}
	if tag.RowsAffected() == 1 {
		if err := announce(ctx, tx, &fresh); err != nil {
			return Room{}, err
		}
	}
	room, err := scanRoom(tx.QueryRow(ctx, `SELECT `+roomColumns+` FROM chat.rooms WHERE trade_id = $1 FOR UPDATE`, d.TradeID))
	if err != nil {
		return Room{}, fmt.Errorf("lock room of trade %s: %w", d.TradeID, err)
	}
	changed, err := change(&room)
	if err != nil || !changed {
		return room, err
	}
	// The room answered is the room stored, closed_at at the database's precision.
	if err := tx.QueryRow(ctx, `UPDATE chat.rooms SET status = $2, closed_at = $3 WHERE id = $1 RETURNING closed_at`,
		room.ID, room.Status, room.ClosedAt).Scan(&room.ClosedAt); err != nil {
		return Room{}, fmt.Errorf("write room %s: %w", room.ID, err)
	}
	if room.ClosedAt != nil {
		at := room.ClosedAt.UTC()
		room.ClosedAt = &at
	}
	return room, announce(ctx, tx, &room)
}

// announce writes the events the rules recorded on r to the outbox.
func announce(ctx context.Context, tx pgx.Tx, r *Room) error {
	for _, e := range r.pending {
		if err := outbox.Write(ctx, tx, outbox.Event{Topic: e.topic, Source: events.SourceChat, AggregateID: r.ID.String(), Data: e.data}); err != nil {
			return err
		}
	}
	r.pending = nil
	return nil
}

// Room returns a room, whoever asks.
func (s *Store) Room(ctx context.Context, id uuid.UUID) (Room, error) {
	r, err := scanRoom(s.db.QueryRow(ctx, `SELECT `+roomColumns+` FROM chat.rooms WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return Room{}, ErrRoomNotFound
	}
	if err != nil {
		return Room{}, fmt.Errorf("read room %s: %w", id, err)
	}
	return r, nil
}

// RoomFor returns a room to a member (with their read mark and unread count) or an
// administrator; anyone else is refused.
func (s *Store) RoomFor(ctx context.Context, who auth.Identity, id uuid.UUID) (Room, error) {
	r, err := s.Room(ctx, id)
	if err != nil {
		return Room{}, err
	}
	if !r.CanRead(who) {
		return Room{}, ErrNotMember
	}
	return s.withMark(ctx, who, r)
}

// withMark fills the member's read mark and unread count.
func (s *Store) withMark(ctx context.Context, who auth.Identity, r Room) (Room, error) {
	if _, member := r.Side(who.UserID); !member {
		return r, nil
	}
	var mark, unread int64
	err := s.db.QueryRow(ctx, `
		SELECT coalesce((SELECT last_read_id FROM chat.reads WHERE room_id = $1 AND user_id = $2), 0),
		       (SELECT count(*) FROM chat.messages m
		         WHERE m.room_id = $1 AND m.sender_id <> $2
		           AND m.id > coalesce((SELECT last_read_id FROM chat.reads WHERE room_id = $1 AND user_id = $2), 0))`,
		r.ID, who.UserID).Scan(&mark, &unread)
	if err != nil {
		return Room{}, fmt.Errorf("read mark of room %s: %w", r.ID, err)
	}
	r.LastReadID, r.UnreadCount = &mark, &unread
	return r, nil
}

// Send stores a message from who in the room and announces it (chat-message-sent). The
// sender's side comes from the room, never from the client. A send retried with the same
// client id returns the first copy with duplicate set, and stores nothing.
//
// It is one statement, so one round trip: the room's row lock numbers the message (ids
// commit in order within a room), and the message and its event are written with it. A
// retry of a committed send leaves the room as it is; only one racing its first copy
// still takes a number (and touches the room's last message), which then stays unused:
// readers treat ids as ordered, not dense.
func (s *Store) Send(ctx context.Context, who auth.Identity, roomID uuid.UUID, clientID, content string) (m Message, duplicate bool, err error) {
	if err := CheckClientID(clientID); err != nil {
		return Message{}, false, err
	}
	if err := CheckContent(content); err != nil {
		return Message{}, false, err
	}
	m = Message{RoomID: roomID, SenderID: who.UserID, ClientID: clientID, Content: content}
	err = s.db.QueryRow(ctx, `
		WITH r AS (
			UPDATE chat.rooms
			   SET last_message_id = last_message_id + 1, last_message = $5,
			       last_message_at = clock_timestamp(), active_at = clock_timestamp()
			 WHERE id = $1 AND status = 'TRADING' AND $2 IN (buyer_id, seller_id)
			   AND NOT EXISTS (SELECT FROM chat.messages WHERE room_id = $1 AND sender_id = $2 AND client_id = $3)
			RETURNING id, last_message_id, last_message_at, buyer_id, trade_id
		), m AS (
			INSERT INTO chat.messages (room_id, id, sender_id, sender_type, client_id, content, created_at)
			SELECT r.id, r.last_message_id, $2, CASE WHEN r.buyer_id = $2 THEN 'BUYER' ELSE 'SELLER' END, $3, $4, r.last_message_at
			  FROM r
			ON CONFLICT (room_id, sender_id, client_id) DO NOTHING
			RETURNING id, sender_type, created_at
		), o AS (
			`+outbox.Insert+`
			SELECT $6, $7, $8, r.id::text,
			       jsonb_build_object('roomId', r.id, 'tradeId', r.trade_id, 'messageId', m.id, 'senderId', $2::uuid,
			                          'senderType', m.sender_type, 'message', $4::text, 'createdAt', m.created_at),
			       $9
			  FROM r, m
		)
		SELECT id, sender_type, created_at FROM m`,
		roomID, who.UserID, clientID, content, preview(content),
		uuid.New(), events.ChatMessageSent, events.SourceChat, outbox.Traceparent(ctx),
	).Scan(&m.ID, &m.SenderType, &m.CreatedAt)
	if err == nil {
		m.CreatedAt = m.CreatedAt.UTC()
		return m, false, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return Message{}, false, fmt.Errorf("send to room %s: %w", roomID, err)
	}
	// Nothing stored: a retry (answered with its first copy, even after the room closed),
	// a closed room, or a caller who is not a member.
	first, ok, err := s.byClientID(ctx, roomID, who.UserID, clientID)
	if err != nil {
		return Message{}, false, err
	}
	if ok {
		return first, true, nil
	}
	return Message{}, false, s.whyRefused(ctx, who, roomID)
}

func (s *Store) byClientID(ctx context.Context, roomID, sender uuid.UUID, clientID string) (Message, bool, error) {
	rows, err := s.db.Query(ctx, `SELECT `+messageColumns+` FROM chat.messages
		WHERE room_id = $1 AND sender_id = $2 AND client_id = $3`, roomID, sender, clientID)
	if err != nil {
		return Message{}, false, fmt.Errorf("find message by client id: %w", err)
	}
	list, err := pgx.CollectRows(rows, scanMessage)
	if err != nil || len(list) == 0 {
		return Message{}, false, err
	}
	return list[0], true, nil
}

func (s *Store) whyRefused(ctx context.Context, who auth.Identity, roomID uuid.UUID) error {
	r, err := s.Room(ctx, roomID)
	if err != nil {
		return err
	}
	if _, member := r.Side(who.UserID); !member {
		return ErrNotMember
	}
	if r.Status != Trading {
		return ErrRoomClosed
	}
	return fmt.Errorf("send to room %s: refused for no known reason", roomID)
}

// After returns up to limit messages of the room with ids above after, oldest first: what a
// reconnecting client missed.
func (s *Store) After(ctx context.Context, roomID uuid.UUID, after int64, limit int) ([]Message, error) {
	rows, err := s.db.Query(ctx, `SELECT `+messageColumns+` FROM chat.messages
		WHERE room_id = $1 AND id > $2 ORDER BY id LIMIT $3`, roomID, after, limit)
	if err != nil {
		return nil, fmt.Errorf("messages after %d: %w", after, err)
	}
	list, err := pgx.CollectRows(rows, scanMessage)
	if err != nil {
		return nil, fmt.Errorf("messages after %d: %w", after, err)
	}
	return list, nil
}

// History is a page of a room's messages, oldest first, and the cursor for the page
// before it.
type History struct {
	Messages []Message `json:"messages"`
	// NextBefore fetches the older page (?before=NextBefore); absent on the first message.
	NextBefore *int64 `json:"nextBefore,omitempty"`
	HasMore    bool   `json:"hasMore"`
}

// Messages returns to a member or an administrator up to limit messages with ids below
// before (0: the newest), oldest first.
func (s *Store) Messages(ctx context.Context, who auth.Identity, roomID uuid.UUID, before int64, limit int) (History, error) {
	r, err := s.Room(ctx, roomID)
	if err != nil {
		return History{}, err
	}
	if !r.CanRead(who) {
		return History{}, ErrNotMember
	}
	if before <= 0 {
		before = r.LastMessageID + 1
	}
	rows, err := s.db.Query(ctx, `SELECT `+messageColumns+` FROM chat.messages
		WHERE room_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3`, roomID, before, limit+1)
	if err != nil {
		return History{}, fmt.Errorf("room %s history: %w", roomID, err)
	}
	list, err := pgx.CollectRows(rows, scanMessage)
	if err != nil {
		return History{}, fmt.Errorf("room %s history: %w", roomID, err)
	}
	h := History{Messages: list}
	if len(list) > limit {
		h.Messages, h.HasMore = list[:limit], true
	}
	slices.Reverse(h.Messages)
	if h.HasMore {
		first := h.Messages[0].ID
		h.NextBefore = &first
	}
	if h.Messages == nil {
		h.Messages = []Message{}
	}
	return h, nil
}

// MarkRead moves who's read mark in the room up to lastID (never down, never past the
// last message) and returns the mark and what is still unread.
func (s *Store) MarkRead(ctx context.Context, who auth.Identity, roomID uuid.UUID, lastID int64) (Room, error) {
	if lastID < 0 {
		return Room{}, fault.ErrBadParameter.WithMessage("lastId must not be negative").OnField("lastId")
	}
	r, err := s.Room(ctx, roomID)
	if err != nil {
		return Room{}, err
	}
	if _, member := r.Side(who.UserID); !member {
		return Room{}, ErrNotMember
	}
	_, err = s.db.Exec(ctx, `
		INSERT INTO chat.reads (room_id, user_id, last_read_id)
		SELECT id, $2, least($3, last_message_id) FROM chat.rooms WHERE id = $1
		ON CONFLICT (room_id, user_id) DO UPDATE
		   SET last_read_id = greatest(chat.reads.last_read_id, excluded.last_read_id), read_at = clock_timestamp()`,
		roomID, who.UserID, lastID)
	if err != nil {
		return Room{}, fmt.Errorf("mark room %s read: %w", roomID, err)
	}
	return s.withMark(ctx, who, r)
}

// ListFilter narrows a room list.
type ListFilter struct {
	// Query matches the product name or either nickname, case-insensitively.
	Query string
	// UserID lists another user's rooms; administrators only.
	UserID uuid.UUID
	// Status keeps rooms in one state.
	Status Status
}

type roomCursor struct {
	ActiveAt time.Time `json:"a"`
	ID       uuid.UUID `json:"id"`
}

// List returns the rooms of who (an administrator may name another user), most recently
// active first, with each room's last message and who's unread count.
func (s *Store) List(ctx context.Context, who auth.Identity, f ListFilter, size int, cursor string) (page.Page[Room], error) {
	user := who.UserID
	if f.UserID != uuid.Nil && f.UserID != who.UserID {
		if !who.IsAdmin() {
			return page.Page[Room]{}, fault.ErrForbidden.WithMessage("only administrators list another user's rooms").OnField("userId")
		}
		user = f.UserID
	}
	key := strings.Join([]string{"chat-rooms", user.String(), strings.ToLower(f.Query), string(f.Status)}, ":")
	var after roomCursor
	hasCursor, err := page.Decode(cursor, key, &after)
	if err != nil {
		return page.Page[Room]{}, err
	}
	var params postgres.Params
	arg := params.Add
	me := arg(user)
	where := []string{fmt.Sprintf("(r.buyer_id = %s OR r.seller_id = %s)", me, me)}
	if f.Query != "" {
		where = append(where, "r.search_text LIKE "+arg(postgres.ContainsPattern(strings.ToLower(f.Query))))
	}
	if f.Status != "" {
		where = append(where, "r.status = "+arg(string(f.Status)))
	}
	if hasCursor {
		where = append(where, fmt.Sprintf("(r.active_at, r.id) < (%s, %s)", arg(after.ActiveAt), arg(after.ID)))
	}
	rows, err := s.db.Query(ctx, `
		SELECT `+prefixed("r.", roomColumns)+`, coalesce(rd.last_read_id, 0),
		       (SELECT count(*) FROM chat.messages m
		         WHERE m.room_id = r.id AND m.id > coalesce(rd.last_read_id, 0) AND m.sender_id <> `+me+`)
		  FROM chat.rooms r LEFT JOIN chat.reads rd ON rd.room_id = r.id AND rd.user_id = `+me+`
		 WHERE `+strings.Join(where, " AND ")+`
		 ORDER BY r.active_at DESC, r.id DESC LIMIT `+arg(size+1), params.Values()...)
	if err != nil {
		return page.Page[Room]{}, fmt.Errorf("list rooms: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Room, error) {
		var mark, unread int64
		r, err := scanRoom(row, &mark, &unread)
		r.LastReadID, r.UnreadCount = &mark, &unread
		return r, err
	})
	if err != nil {
		return page.Page[Room]{}, fmt.Errorf("list rooms: %w", err)
	}
	return page.Of(list, size, func(last Room) string {
		return page.Encode(key, roomCursor{ActiveAt: last.activeAt, ID: last.ID})
	}), nil
}

// prefixed qualifies each column of a list with a table alias.
func prefixed(alias, columns string) string {
	cols := strings.Split(columns, ",")
	for i, c := range cols {
		cols[i] = alias + strings.TrimSpace(c)
	}
	return strings.Join(cols, ", ")
}

// RoomOfTrade returns the room of a trade.
func (s *Store) RoomOfTrade(ctx context.Context, tradeID uuid.UUID) (Room, error) {
	r, err := scanRoom(s.db.QueryRow(ctx, `SELECT `+roomColumns+` FROM chat.rooms WHERE trade_id = $1`, tradeID))
	if errors.Is(err, pgx.ErrNoRows) {
		return Room{}, ErrRoomNotFound
	}
	if err != nil {
		return Room{}, fmt.Errorf("read room of trade %s: %w", tradeID, err)
	}
	return r, nil
}
