// Package tradecancelled is the function chat-trade-cancelled, served by the chat server: it
// consumes trade-cancelled and closes the trade's room.
package tradecancelled

import (
	"github.com/8949market/market/shared/chat"
	"github.com/8949market/market/shared/events"
	"github.com/8949market/market/shared/inbox"
	"github.com/8949market/market/shared/platform"
	"github.com/8949market/market/shared/registry"
)

const name = "chat-trade-cancelled"

func init() {
	registry.Event(name, events.TradeCancelled, New, registry.HostedBy("chat-server"))
}

// New builds the consumer.
func New(kit *platform.Kit) registry.EventHandler {
	return inbox.Handle(kit.DB, name, chat.Ender(kit.Redis, chat.Cancelled))
}
