// Package tradecompleted is the function chat-trade-completed, served by the chat server: it
// consumes trade-completed and closes the trade's room.
package tradecompleted

import (
	"github.com/8949market/market/shared/chat"
	"github.com/8949market/market/shared/events"
	"github.com/8949market/market/shared/inbox"
	"github.com/8949market/market/shared/platform"
	"github.com/8949market/market/shared/registry"
)

const name = "chat-trade-completed"

func init() {
	registry.Event(name, events.TradeCompleted, New, registry.HostedBy("chat-server"))
}

// New builds the consumer.
func New(kit *platform.Kit) registry.EventHandler {
	return inbox.Handle(kit.DB, name, chat.Ender(kit.Redis, chat.Completed))
}
