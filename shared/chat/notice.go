package chat

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"
)

// NoticeKind says what a notice tells a room's connections.
type NoticeKind string

// The notices. A message notice follows a committed message; read and typing are
// ephemeral; closed follows the room's end.
const (
	NoticeMessage NoticeKind = "message"
	NoticeRead    NoticeKind = "read"
	NoticeTyping  NoticeKind = "typing"
	NoticeClosed  NoticeKind = "closed"
)

// Notice is a room's news, fanned out to every chat-server replica through Redis. A
// notice may be lost (Redis pub/sub keeps nothing): messages are numbered, so a connection
// that sees a gap, or reconnects, reads what it missed from PostgreSQL.
type Notice struct {
	Kind    NoticeKind `json:"kind"`
	RoomID  uuid.UUID  `json:"roomId"`
	Message *Message   `json:"message,omitempty"`
	UserID  uuid.UUID  `json:"userId,omitzero"`
	// LastReadID is a read notice's mark.
	LastReadID int64 `json:"lastReadId,omitempty"`
	// Status is a closed notice's end.
	Status Status `json:"status,omitempty"`
	// Origin is the replica that published it, which has delivered it locally already.
	Origin string `json:"origin,omitempty"`
}

// ChannelPrefix starts every room's Redis channel.
const ChannelPrefix = "chat:room:"

// Channel is the Redis channel of a room.
func Channel(roomID uuid.UUID) string { return ChannelPrefix + roomID.String() }

// Publish sends n to every replica with connections in its room.
func Publish(ctx context.Context, rdb *redis.Client, n Notice) error {
	raw, err := json.Marshal(n)
	if err != nil {
		return fmt.Errorf("encode %s notice: %w", n.Kind, err)
	}
	if err := rdb.Publish(ctx, Channel(n.RoomID), raw).Err(); err != nil {
		return fmt.Errorf("publish %s notice to room %s: %w", n.Kind, n.RoomID, err)
	}
	return nil
}
