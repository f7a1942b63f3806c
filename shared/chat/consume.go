package chat

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"

	"github.com/8949market/market/shared/events"
	"github.com/8949market/market/shared/inbox"
)

// Open opens the room of trade d in tx (trade-created), once however often it comes.
func Open(ctx context.Context, tx pgx.Tx, d events.TradeData) error {
	_, err := UpdateTx(ctx, tx, d, func(*Room) (bool, error) { return false, nil })
	return err
}

// End moves the room of trade d to its end in tx (trade-completed: COMPLETED,
// trade-cancelled: CANCELLED; Room.End). Once that commits, the room's connections are
// told it closed (inbox.OnCommit); a lost notice costs nothing, as the room refuses sends
// from its row.
func End(ctx context.Context, tx pgx.Tx, rdb *redis.Client, d events.TradeData, to Status) error {
	now := time.Now().UTC()
	room, err := UpdateTx(ctx, tx, d, func(r *Room) (bool, error) { return r.End(to, now) })
	if err != nil {
		return err
	}
	inbox.OnCommit(ctx, func(ctx context.Context) error {
		return Publish(ctx, rdb, Notice{Kind: NoticeClosed, RoomID: room.ID, Status: room.Status})
	})
	return nil
}

// Ender is the consumer effect of a trade's end: End at to, telling connections through
// rdb.
func Ender(rdb *redis.Client, to Status) inbox.Effect[events.TradeData] {
	return func(ctx context.Context, tx pgx.Tx, d events.TradeData) error { return End(ctx, tx, rdb, d, to) }
}
