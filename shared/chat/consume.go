package chat

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	"github.com/jackc/pgx/v5"

	"github.com/8949market/market/shared/events"
	"github.com/8949market/market/shared/inbox"
	"github.com/8949market/market/shared/platform"
)

// Follow is the consumer of a trade event named consumer: trade-created opens the room
// (to = TRADING), trade-completed and trade-cancelled close it. Once the change commits,
// the room's connections are told it closed; a lost notice costs nothing, as the room
// refuses sends from its row.
func Follow(kit *platform.Kit, consumer string, to Status) func(context.Context, cloudevents.Event) error {
	apply := inbox.Consume(kit.DB, consumer, func(ctx context.Context, tx pgx.Tx, e cloudevents.Event) error {
		var d events.TradeData
		if err := json.Unmarshal(e.Data(), &d); err != nil {
			return ErrTradeEvent.WithMessage("%s: data is not a trade", e.Type()).Wrap(err)
		}
		if to == Trading {
			_, _, err := OpenRoom(ctx, tx, d, Trading)
			return err
		}
		_, _, err := CloseRoom(ctx, tx, d, to)
		return err
	})
	return func(ctx context.Context, e cloudevents.Event) error {
		if err := apply(ctx, e); err != nil {
			return err
		}
		if to == Trading {
			return nil
		}
		var d events.TradeData
		_ = json.Unmarshal(e.Data(), &d) // it decoded above
		room, err := NewStore(kit.DB).RoomOfTrade(ctx, d.TradeID)
		if err == nil {
			err = Publish(ctx, kit.Redis, Notice{Kind: NoticeClosed, RoomID: room.ID, Status: room.Status})
		}
		if err != nil {
			// The room is closed in PostgreSQL; connections learn it on their next send.
			slog.WarnContext(ctx, "room closed but its connections were not told", "consumer", consumer, "tradeId", d.TradeID, "error", fmt.Sprint(err))
		}
		return nil
	}
}
