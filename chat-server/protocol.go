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
