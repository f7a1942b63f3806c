package trades

import (
	"context"
	"errors"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/events"
	"github.com/8949market/market/shared/outbox"
)

// Open creates the trade of a completed reservation in tx, once per reservation however
// often the event comes, and announces it (trade-created). A reservation that cannot
// become a trade (no buyer, buyer and seller the same, no positive price) is answered
// with reservation-tradefail in the same transaction, so nothing waits for it.
func Open(ctx context.Context, tx pgx.Tx, d events.ReservationData) error {
	if d.ReservationID == uuid.Nil {
		return ErrReservationID.Wrap(errors.New("open trade: reservation-completed without a reservationId"))
	}
	t, f := New(d)
	if f != nil {
		// Answered, not retried: the reason names the code of the rule it breaks.
		return outbox.Write(ctx, tx, outbox.Event{
			Topic: events.ReservationTradeFail, Source: events.SourceTrades, AggregateID: d.ReservationID.String(),
			Data: events.ReservationTradeFailData{ReservationID: d.ReservationID, ProductID: d.ProductID, Reason: f.Code + ": " + f.Message},
		})
	}
	_, err := CreateTx(ctx, tx, t)
	return err
}

// RecordRoom stores the chat room of its trade in tx (chat-room-created); the trade keeps
// its first room, and a room for a trade that does not exist changes nothing.
func RecordRoom(ctx context.Context, tx pgx.Tx, d events.ChatRoomCreatedData) error {
	_, err := UpdateTx(ctx, tx, d.TradeID, func(t *Trade) (bool, error) { return t.RecordRoom(d.RoomID), nil })
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	return err
}

// Complete records caller's completion of trade id (Trade.Complete).
func Complete(ctx context.Context, s *Store, id uuid.UUID, caller auth.Identity) (Trade, error) {
	return s.Update(ctx, id, func(t *Trade) error { return t.Complete(caller) })
}

// Cancel ends trade id on caller's request (Trade.Cancel); the reason is checked before
// the trade is read.
func Cancel(ctx context.Context, s *Store, id uuid.UUID, caller auth.Identity, c Cancellation) (Trade, error) {
	c, err := c.Check()
	if err != nil {
		return Trade{}, err
	}
	return s.Update(ctx, id, func(t *Trade) error { return t.Cancel(caller, c) })
}
