// Package tradecreated is the function chat-trade-created, served by the chat server: it
// consumes trade-created and opens the trade's room.
package tradecreated

import (
	"github.com/8949market/market/shared/chat"
	"github.com/8949market/market/shared/events"
	"github.com/8949market/market/shared/inbox"
	"github.com/8949market/market/shared/platform"
	"github.com/8949market/market/shared/registry"
)

const name = "chat-trade-created"

func init() {
	registry.Event(name, events.TradeCreated, New, registry.HostedBy("chat-server"))
}

// New builds the consumer.
func New(kit *platform.Kit) registry.EventHandler {
	return inbox.Handle(kit.DB, name, chat.Open)
}
