// Package chatroomcreated is the function trades-chat-room-created: it consumes
// chat-room-created and records the room on its trade.
package chatroomcreated

import (
	"github.com/8949market/market/shared/events"
	"github.com/8949market/market/shared/inbox"
	"github.com/8949market/market/shared/platform"
	"github.com/8949market/market/shared/registry"
	"github.com/8949market/market/shared/trades"
)

const name = "trades-chat-room-created"

func init() {
	registry.Event(name, events.ChatRoomCreated, New)
}

// New builds the consumer.
func New(kit *platform.Kit) registry.EventHandler {
	return inbox.Handle(kit.DB, name, trades.RecordRoom)
}
