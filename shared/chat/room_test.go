package chat_test

import (
	"context"
	"errors"
	"testing"

	"github.com/google/uuid"

	"github.com/8949market/market/shared/chat"
	"github.com/8949market/market/shared/events"
	"github.com/8949market/market/shared/events/eventtest"
)

// A room ends once: its trade's end closes it (read-only, closed at a time), the same end
// again changes nothing, the other end is CH013; an end that overtakes the trade's
// creation opens the room already closed, announced once, and the late creation leaves
// it closed.
func TestEnd(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, end := range []struct{ to, other chat.Status }{{chat.Completed, chat.Cancelled}, {chat.Cancelled, chat.Completed}} {
		t.Run(string(end.to), func(t *testing.T) {
			t.Parallel()
			d := b.trade
			d.TradeID = uuid.New()
			b.open(t, d, chat.Trading)
			closed := b.open(t, d, end.to)
			if closed.Status != end.to || closed.ClosedAt == nil {
				t.Fatalf("room %s closed at %v, want %s", closed.Status, closed.ClosedAt, end.to)
			}
			if again := b.open(t, d, end.to); again.Status != end.to || !again.ClosedAt.Equal(*closed.ClosedAt) {
				t.Fatalf("after a second end: %s closed at %v, was %v", again.Status, again.ClosedAt, closed.ClosedAt)
			}
			if err := b.try(d, end.other); !errors.Is(err, chat.ErrEnded) {
				t.Fatalf("the other end: %v, want CH013", err)
			}

			early := b.trade
			early.TradeID = uuid.New()
			first := b.open(t, early, end.to)
			if first.Status != end.to || first.ClosedAt == nil || first.BuyerID != early.BuyerID || first.ProductName != early.ProductName {
				t.Fatalf("room opened by its end: %+v", first)
			}
			if late := b.open(t, early, chat.Trading); late.ID != first.ID || late.Status != end.to {
				t.Fatalf("trade-created after the end: %+v", late)
			}
			if created := eventtest.Events[events.ChatRoomCreatedData](t, b.db, first.ID, events.ChatRoomCreated); len(created) != 1 || created[0].TradeID != early.TradeID {
				t.Fatalf("chat-room-created %+v, want one", created)
			}
		})
	}
}

// try ends the room of d at to in a transaction of its own and returns the error.
func (b testBundle) try(d events.TradeData, to chat.Status) error {
	tx, err := b.db.Begin(context.Background())
	if err != nil {
		return err
	}
	defer tx.Rollback(context.Background()) //nolint:errcheck // the test only reads the error
	_, err = chat.UpdateTx(context.Background(), tx, d, func(r *chat.Room) (bool, error) { return r.End(to, r.CreatedAt) })
	return err
}
