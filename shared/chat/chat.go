// Package chat is the chat domain: one room per trade between its buyer and seller,
// messages numbered per room and stored before anyone sees them, read marks, and the
// notices that fan a room's news out to every chat-server replica. It owns the chat schema.
package chat

import (
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/fault"
)

// Status is a room's state: it follows its trade.
type Status string

// The states.
const (
	Trading   Status = "TRADING"
	Completed Status = "COMPLETED"
	Cancelled Status = "CANCELLED"
)

// SenderType is the side of the trade a message comes from; the server derives it from the
// token, never from the client.
type SenderType string

// The sides.
const (
	Buyer  SenderType = "BUYER"
	Seller SenderType = "SELLER"
)

// Limits on what a client may send.
const (
	// MaxMessageRunes is the longest message, in characters.
	MaxMessageRunes = 2000
	// MaxClientIDLen is the longest client id, in bytes.
	MaxClientIDLen = 64
)

// The chat faults. The original's chat codes were C001–C014, which our common codes use,
// so chat answers CH001–CH012.
var (
	ErrRoomNotFound   = fault.New(fault.NotFound, "CH001", "chat room not found")
	ErrNotMember      = fault.New(fault.Forbidden, "CH002", "only the buyer and the seller of the trade may use this room")
	ErrRoomClosed     = fault.New(fault.Conflict, "CH003", "the room is closed: its trade has ended")
	ErrEmptyMessage   = fault.New(fault.Invalid, "CH004", "message must not be blank").OnField("content")
	ErrMessageTooLong = fault.New(fault.Invalid, "CH005", "message is too long").OnField("content")
	ErrFlood          = fault.New(fault.TooMany, "CH006", "too many messages; slow down")
	ErrClientID       = fault.New(fault.Invalid, "CH007", "clientId is required, at most 64 characters").OnField("clientId")
	ErrFrame          = fault.New(fault.Invalid, "CH008", "frame not understood")
	ErrNotJoined      = fault.New(fault.Conflict, "CH009", "join the room first")
	ErrTooManyConns   = fault.New(fault.TooMany, "CH010", "too many chat connections for this user")
	ErrRoomID         = fault.New(fault.Invalid, "CH011", "roomId must be a UUID").OnField("roomId")
	ErrTradeEvent     = fault.New(fault.Invalid, "CH012", "the trade event lacks a field the room needs")
)

// Room is a chat room as its members see it.
type Room struct {
	ID             uuid.UUID  `json:"roomId"`
	TradeID        uuid.UUID  `json:"tradeId"`
	ProductID      uuid.UUID  `json:"productId"`
	ProductName    string     `json:"productName"`
	SellerID       uuid.UUID  `json:"sellerId"`
	SellerNickname string     `json:"sellerNickname"`
	BuyerID        uuid.UUID  `json:"buyerId"`
	BuyerNickname  string     `json:"buyerNickname"`
	Status         Status     `json:"roomStatus"`
	LastMessageID  int64      `json:"lastMessageId"`
	LastMessage    *string    `json:"lastMessage"`
	LastMessageAt  *time.Time `json:"lastMessageAt"`
	CreatedAt      time.Time  `json:"createdAt"`
	ClosedAt       *time.Time `json:"closedAt,omitempty"`
	// UnreadCount is the messages from the other member after the caller's read mark; only
	// set for a member.
	UnreadCount *int64 `json:"unreadCount,omitempty"`
	// LastReadID is the caller's read mark; only set for a member.
	LastReadID *int64 `json:"lastReadId,omitempty"`

	activeAt time.Time
	pending  []pendingEvent // events the rules announced, written with the room
}

// Side is the member's side in the room, or false for anyone else (administrators
// included: they may read, not talk).
func (r Room) Side(userID uuid.UUID) (SenderType, bool) {
	switch userID {
	case r.BuyerID:
		return Buyer, true
	case r.SellerID:
		return Seller, true
	}
	return "", false
}

// CanRead says whether who may read the room: its members and administrators.
func (r Room) CanRead(who auth.Identity) bool {
	_, member := r.Side(who.UserID)
	return member || who.IsAdmin()
}

// Message is one stored message. ID counts from 1 within its room.
type Message struct {
	RoomID     uuid.UUID  `json:"roomId"`
	ID         int64      `json:"id"`
	SenderID   uuid.UUID  `json:"senderId"`
	SenderType SenderType `json:"senderType"`
	ClientID   string     `json:"clientId,omitempty"`
	Content    string     `json:"content"`
	CreatedAt  time.Time  `json:"createdAt"`
}

// CheckText refuses a string PostgreSQL cannot store (a NUL) or that is not UTF-8 with the
// common code for it (400 C016), naming field.
func CheckText(field, s string) error {
	if !utf8.ValidString(s) || strings.IndexByte(s, 0) >= 0 {
		return fault.ErrText.WithMessage("%s must be valid UTF-8 without NUL characters", field).OnField(field)
	}
	return nil
}

// CheckContent applies the message rules: UTF-8 without NUL, not blank, at most
// MaxMessageRunes characters.
func CheckContent(content string) error {
	if err := CheckText("content", content); err != nil {
		return err
	}
	if strings.TrimSpace(content) == "" {
		return ErrEmptyMessage
	}
	if n := utf8.RuneCountInString(content); n > MaxMessageRunes {
		return ErrMessageTooLong.WithMessage("message is %d characters; at most %d", n, MaxMessageRunes)
	}
	return nil
}

// CheckClientID applies the client id rules: UTF-8 without NUL, present, at most
// MaxClientIDLen bytes.
func CheckClientID(id string) error {
	if err := CheckText("clientId", id); err != nil {
		return err
	}
	if id == "" || len(id) > MaxClientIDLen {
		return ErrClientID
	}
	return nil
}

// ParseRoomID reads a room id.
func ParseRoomID(s string) (uuid.UUID, error) {
	id, err := uuid.Parse(s)
	if err != nil {
		return uuid.Nil, ErrRoomID
	}
	return id, nil
}

// preview is the room list's one-line excerpt of a message.
func preview(content string) string {
	const max = 100
	if utf8.RuneCountInString(content) <= max {
		return content
	}
	return string([]rune(content)[:max]) + "…"
}
