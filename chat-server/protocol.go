package chatserver

import (
	"encoding/json"
	"errors"
	"strings"

	"github.com/coder/websocket"
	"github.com/google/uuid"

	"github.com/8949market/market/shared/chat"
	"github.com/8949market/market/shared/fault"
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

// Close codes beyond RFC 6455's, in the range it leaves to applications.
const (
	// CloseTokenInvalid: the access token expired or was revoked (logout, password change,
	// role change, deletion); reconnect with a new one. Every connection follows its token,
	// sending or not: it is closed at the token's expiry instant, and at most
	// RevocationDelay after a revocation, after an error frame C002 saying which; nothing
	// of its rooms is written after that.
	CloseTokenInvalid websocket.StatusCode = 4401
	// CloseTooSlow: the client did not read its frames fast enough; reconnect with the last
	// ids seen, nothing is lost.
	CloseTooSlow websocket.StatusCode = 4408
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

// clientFrame is what DecodeFrame reads of a client's frame: the fields a client sends.
// Anything else a frame carries (a sender, a whole message) is ignored, whatever it claims.
type clientFrame struct {
	Type     string     `json:"type"`
	RoomID   *uuid.UUID `json:"roomId"`
	ClientID string     `json:"clientId"`
	Content  string     `json:"content"`
	LastID   *int64     `json:"lastId"`
}

// DecodeFrame reads a client's text frame: type, roomId, clientId, content and lastId;
// other fields are ignored. A frame whose text is not UTF-8, or holds a NUL or half a
// surrogate pair in any string (ignored fields and keys included), is refused with C016,
// as REST refuses such text, before it is decoded: PostgreSQL stores no NUL, and a JSON
// decoder would silently turn the rest into U+FFFD. Every error is a fault of kind
// Invalid. On error the frame holds the clientId when one can be read cleanly, so that the
// refusal names the send it answers.
func DecodeFrame(raw []byte) (Frame, error) {
	if field, bad := textProblem(raw); bad {
		return Frame{ClientID: probeClientID(raw)}, fault.ErrText.WithMessage("frame text must be valid UTF-8 without NUL characters").OnField(field)
	}
	var in clientFrame
	if err := json.Unmarshal(raw, &in); err != nil {
		return Frame{ClientID: probeClientID(raw)}, undecodable(err)
	}
	return Frame{Type: in.Type, RoomID: in.RoomID, ClientID: in.ClientID, Content: in.Content, LastID: in.LastID}, nil
}

// probeClientID reads a refused frame's clientId, if the frame is JSON and its clientId is
// clean text as sent.
func probeClientID(raw []byte) string {
	var probe struct {
		ClientID json.RawMessage `json:"clientId"`
	}
	var id string
	if json.Unmarshal(raw, &probe) != nil || json.Unmarshal(probe.ClientID, &id) != nil {
		return ""
	}
	if _, bad := textProblem(probe.ClientID); bad {
		return ""
	}
	return id
}

// undecodable says what is wrong with a frame that does not decode: not JSON at all, a
// roomId that is not a UUID, or a field of the wrong type.
func undecodable(err error) error {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return chat.ErrFrame.WithMessage("frame is not JSON")
	case errors.As(err, &typ):
		return chat.ErrFrame.WithMessage("%s has the wrong type", typ.Field).OnField(typ.Field)
	case strings.Contains(err.Error(), "UUID"):
		return chat.ErrRoomID
	}
	return chat.ErrFrame.WithMessage("frame is not JSON")
}

// The shapes of Frame per type, for the API reference (Reference): Frame is what travels,
// one struct for every type with the fields a type does not use omitted; each of these
// names the fields one type carries, with the JSON Frame gives them (TestReference holds
// them to Frame and DecodeFrame).

// JoinFrame is a client's join: start receiving the room's messages, after replaying those
// after LastID when it is set.
type JoinFrame struct {
	Type   string    `json:"type"`
	RoomID uuid.UUID `json:"roomId"`
	LastID *int64    `json:"lastId,omitempty"`
}

// LeaveFrame is a client's leave: stop receiving the room.
type LeaveFrame struct {
	Type   string    `json:"type"`
	RoomID uuid.UUID `json:"roomId"`
}

// SendFrame is a client's send: store Content in the room, once per ClientID.
type SendFrame struct {
	Type     string    `json:"type"`
	RoomID   uuid.UUID `json:"roomId"`
	ClientID string    `json:"clientId"`
	Content  string    `json:"content"`
}

// ReadFrame is a client's read: move its read mark up to LastID.
type ReadFrame struct {
	Type   string    `json:"type"`
	RoomID uuid.UUID `json:"roomId"`
	LastID int64     `json:"lastId"`
}

// TypingFrame is a client's typing: tell the other member.
type TypingFrame struct {
	Type   string    `json:"type"`
	RoomID uuid.UUID `json:"roomId"`
}

// JoinedFrame answers a join: the room as the member sees it and its last message's id.
type JoinedFrame struct {
	Type   string    `json:"type"`
	RoomID uuid.UUID `json:"roomId"`
	Room   chat.Room `json:"room"`
	LastID int64     `json:"lastId"`
}

// MessageFrame is a stored message of a joined room, live or replayed.
type MessageFrame struct {
	Type    string       `json:"type"`
	RoomID  uuid.UUID    `json:"roomId"`
	Message chat.Message `json:"message"`
}

// AckFrame answers a send: the stored message; Duplicate when the send was a retry.
type AckFrame struct {
	Type      string       `json:"type"`
	RoomID    uuid.UUID    `json:"roomId"`
	ClientID  string       `json:"clientId"`
	Message   chat.Message `json:"message"`
	Duplicate bool         `json:"duplicate,omitempty"`
}

// ReadNoticeFrame relays a member's read mark to the room's connections.
type ReadNoticeFrame struct {
	Type   string    `json:"type"`
	RoomID uuid.UUID `json:"roomId"`
	UserID uuid.UUID `json:"userId"`
	LastID int64     `json:"lastId"`
}

// TypingNoticeFrame relays the other member's typing.
type TypingNoticeFrame struct {
	Type   string    `json:"type"`
	RoomID uuid.UUID `json:"roomId"`
	UserID uuid.UUID `json:"userId"`
}

// ClosedFrame says the room's trade ended: the room is read-only.
type ClosedFrame struct {
	Type   string      `json:"type"`
	RoomID uuid.UUID   `json:"roomId"`
	Status chat.Status `json:"status"`
}

// ErrorFrame refuses a frame, or says why the session ends (C002): a fault's code, its
// message and field, and the roomId and clientId of the frame it answers when it had them.
type ErrorFrame struct {
	Type     string     `json:"type"`
	Code     string     `json:"code"`
	Error    string     `json:"error"`
	Field    string     `json:"field,omitempty"`
	RoomID   *uuid.UUID `json:"roomId,omitempty"`
	ClientID string     `json:"clientId,omitempty"`
}

// ReconnectFrame says the server is going away: reconnect and join with the last ids seen.
type ReconnectFrame struct {
	Type  string `json:"type"`
	Error string `json:"error"`
}
