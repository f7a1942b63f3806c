package products_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/8949market/market/shared/events"
	"github.com/8949market/market/shared/events/eventtest"
	"github.com/8949market/market/shared/inbox"
	"github.com/8949market/market/shared/products"
	"github.com/8949market/market/shared/testenv"
	"github.com/8949market/market/shared/testfactory"
)

// reservationMove is a product in status, its window opened `opened` ago and closing
// `closes` from now, a buyer holding it at version held (0: none), and the event of
// version it receives; want is the status it moves to ("" : nothing changes), with the
// holder kept as buyer (keepsBuyer) or none.
type reservationMove struct {
	name           string
	topic          string
	apply          inbox.Effect[events.ReservationData]
	status         products.Status
	opened, closes time.Duration
	held, version  int64
	want           products.Status
	keepsBuyer     bool
	view           products.Status // if not "", the status a read reports afterwards
}

func reservationMoves() []reservationMove {
	var out []reservationMove
	// reservation-cancelled drops the buyer: the deal is on sale again while its window is
	// open, expired once it has closed; from a reservation or from its trade alike.
	for _, m := range []struct {
		name           string
		status         products.Status
		opened, closes time.Duration
		want           products.Status
	}{
		{"reserving, window open", products.Reserving, time.Minute, time.Hour, products.Reserving},
		{"reserving, window closed", products.Reserving, 2 * time.Hour, -time.Minute, products.Expired},
		{"in trade, window open", products.InTrade, time.Minute, time.Hour, products.Reserving},
		{"in trade, window closed", products.InTrade, 2 * time.Hour, -time.Minute, products.Expired},
		{"stored pending, window open", products.PendingReservation, time.Minute, time.Hour, products.Reserving},
	} {
		out = append(out, reservationMove{name: "cancelled: " + m.name, topic: events.ReservationCancelled, apply: products.OnReservationCancelled,
			status: m.status, opened: m.opened, closes: m.closes, held: 1, version: 2, want: m.want, view: m.want})
	}
	// reservation-completed: the buyer paid; the deal goes to its trade, window open or
	// closed, and keeps its buyer.
	for _, m := range []struct {
		name           string
		status         products.Status
		opened, closes time.Duration
	}{
		{"window open", products.Reserving, time.Minute, time.Hour},
		{"window open, tick not run", products.PendingReservation, time.Minute, time.Hour},
		{"window closed while the buyer held it", products.Reserving, 2 * time.Hour, -time.Minute},
		{"expired by the tick before the event arrived", products.Expired, 2 * time.Hour, -time.Minute},
	} {
		out = append(out, reservationMove{name: "completed to IN_TRADE: " + m.name, topic: events.ReservationCompleted, apply: products.OnReservationCompleted,
			status: m.status, opened: m.opened, closes: m.closes, held: 1, version: 2, want: products.InTrade, keepsBuyer: true, view: products.InTrade})
	}
	// Out-of-order delivery: the product has seen version 3; version 2 or 3 again changes
	// nothing, and the buyer keeps the deal (a closed window reads RESERVING).
	for _, v := range []int64{2, 3} {
		out = append(out,
			reservationMove{name: fmt.Sprintf("cancelled: version %d after 3 is ignored", v), topic: events.ReservationCancelled, apply: products.OnReservationCancelled,
				status: products.Reserving, opened: 2 * time.Hour, closes: -time.Minute, held: 3, version: v, view: products.Reserving},
			reservationMove{name: fmt.Sprintf("completed: version %d after 3 is ignored", v), topic: events.ReservationCompleted, apply: products.OnReservationCompleted,
				status: products.Reserving, opened: time.Minute, closes: time.Hour, held: 3, version: v, view: products.Reserving})
	}
	// A deal already past the state the event moves from is left as it is.
	for _, s := range []products.Status{products.SaleCanceled, products.Completed, products.Failed, products.Expired} {
		out = append(out, reservationMove{name: "cancelled: ignored when " + string(s), topic: events.ReservationCancelled, apply: products.OnReservationCancelled,
			status: s, opened: time.Minute, closes: time.Hour, version: 1})
	}
	for _, s := range []products.Status{products.SaleCanceled, products.Completed, products.Failed, products.InTrade} {
		out = append(out, reservationMove{name: "completed: ignored when " + string(s), topic: events.ReservationCompleted, apply: products.OnReservationCompleted,
			status: s, opened: time.Minute, closes: time.Hour, version: 1})
	}
	return out
}

// The rules of products-reservation-cancelled and products-reservation-completed, on a
// database of the test's own, through their effects (products.OnReservationCancelled and
// OnReservationCompleted) in inbox.Handle as the functions run them. The functions' own
// tests deliver one event of each end to end.
func TestReservationEventsMoveTheDeal(t *testing.T) {
	t.Parallel()

	const consumer = "products-test-reservation-events"
	type testBundle struct {
		ctx     context.Context
		db      *pgxpool.Pool
		f       *fixture
		product products.Product
		handler func(context.Context, cloudevents.Event) error
	}
	db := testenv.DB(t) // one database; each case has its own product
	setup := func(t *testing.T, m reservationMove) *testBundle {
		t.Helper()
		ctx := context.Background()
		now := time.Now()
		start, end := now.Add(-m.opened), now.Add(m.closes)
		if end.Sub(start) < products.MinWindow {
			start = end.Add(-products.MinWindow) // the table's CHECK
		}
		opts := &testfactory.ProductOpts{Status: m.status, StartTime: start, EndTime: end}
		if m.held != 0 {
			buyer := uuid.New()
			opts.BuyerID, opts.ReservationVersion = &buyer, m.held
		}
		return &testBundle{
			ctx: ctx, db: db, f: &fixture{db: db, store: products.NewStore(db)},
			product: testfactory.Product(ctx, t, db, opts),
			handler: inbox.Handle(db, consumer, m.apply),
		}
	}

	for _, m := range reservationMoves() {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, m)
			before := b.f.read(t, b.product.ID)
			eventID, newBuyer := uuid.New(), uuid.New()
			d := events.ReservationData{ReservationID: uuid.New(), ProductID: b.product.ID, Version: m.version,
				SellerID: uuid.New(), Price: b.product.Price, BuyerID: &newBuyer}
			if err := b.handler(b.ctx, cloudEvent(t, eventID, m.topic, d)); err != nil {
				t.Fatalf("%s: %v, want acknowledged", m.topic, err)
			}
			got := b.f.read(t, b.product.ID)
			if m.want == "" {
				if describe(got) != describe(before) {
					t.Errorf("changed:\nbefore %s\nafter  %s", describe(before), describe(got))
				}
			} else {
				wantBuyer := (*uuid.UUID)(nil)
				if m.keepsBuyer {
					wantBuyer = b.product.BuyerID
				}
				if got.Status != m.want || !sameID(got.BuyerID, wantBuyer) || got.ReservationVersion != m.version {
					t.Errorf("row = %s, want %s with buyer %v at version %d", describe(got), m.want, wantBuyer, m.version)
				}
				if n := eventtest.InboxRows(t, b.db, consumer, eventID); n != 1 {
					t.Errorf("%d inbox rows, want 1", n)
				}
			}
			if m.view != "" {
				if s := got.View(time.Now()).Status; s != m.view {
					t.Errorf("read status %s, want %s", s, m.view)
				}
			}
		})
	}
}

func sameID(a, b *uuid.UUID) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }
