// Package chatroomcreated is the function trades-chat-room-created: it consumes
// chat-room-created and records the room on its trade.
package chatroomcreated

import (
	"context"
	"encoding/json"
	"fmt"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	"github.com/jackc/pgx/v5"

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
	return inbox.Consume(kit.DB, name, func(ctx context.Context, tx pgx.Tx, e cloudevents.Event) error {
		var d events.ChatRoomCreatedData
		if err := json.Unmarshal(e.Data(), &d); err != nil {
			return fmt.Errorf("decode chat-room-created: %w", err)
		}
		return trades.RecordRoom(ctx, tx, d)
	})
}
