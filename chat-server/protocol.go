package chatserver

import (
	"github.com/google/uuid"

	"github.com/8949market/market/shared/chat"
)

// Subprotocol is the WebSocket subprotocol of the chat protocol. A browser, which cannot
// set headers on a WebSocket, offers its token as a second subprotocol "bearer.<token>";
// the server answers with this one only, so the token is never echoed.
const Subprotocol = "market-chat.v1"

// The frame types a client sends.
const (
	TypeJoin   = "join"   // roomId, lastId (optional: replay everything after it)
	TypeLeave  = "leave"  // roomId
	TypeSend   = "send"   // roomId, clientId, content
	TypeRead   = "read"   // roomId, lastId
	TypeTyping = "typing" // roomId
)

// The frame types the server sends (besides read and typing, which it relays).
const (
	TypeJoined    = "joined"    // roomId, room, lastId: the room's last message at join
	TypeMessage   = "message"   // roomId, message
	TypeAck       = "ack"       // roomId, clientId, message (duplicate when a retry); before or after the sender's own message frame
	TypeClosed    = "closed"    // roomId, status: the trade ended; the room is read-only
	TypeError     = "error"     // code, error (text), field, roomId, clientId
	TypeReconnect = "reconnect" // the server is going away: reconnect with your last ids
)

// Frame is one JSON text frame, either way. Fields not used by a type are omitted.
type Frame struct {
	Type      string        `json:"type"`
	RoomID    *uuid.UUID    `json:"roomId,omitempty"`
	ClientID  string        `json:"clientId,omitempty"`
	Content   string        `json:"content,omitempty"`
	LastID    *int64        `json:"lastId,omitempty"`
	Message   *chat.Message `json:"message,omitempty"`
	Room      *chat.Room    `json:"room,omitempty"`
	Duplicate bool          `json:"duplicate,omitempty"`
	UserID    *uuid.UUID    `json:"userId,omitempty"`
	Status    chat.Status   `json:"status,omitempty"`
	Code      string        `json:"code,omitempty"`
	Error     string        `json:"error,omitempty"`
	Field     string        `json:"field,omitempty"`
}
