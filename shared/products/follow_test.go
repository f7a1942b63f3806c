package products_test

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/8949market/market/shared/events"
	"github.com/8949market/market/shared/fault"
	"github.com/8949market/market/shared/inbox"
	"github.com/8949market/market/shared/products"
)

// cloudEvent is an event as the backbone delivers it.
func cloudEvent(t *testing.T, id uuid.UUID, topic string, data any) cloudevents.Event {
	t.Helper()
	e := cloudevents.NewEvent()
	e.SetID(id.String())
	e.SetType(topic)
	e.SetSource(events.SourceReservations)
	if raw, ok := data.([]byte); ok {
		if err := e.SetData(cloudevents.ApplicationJSON, json.RawMessage(raw)); err != nil {
			t.Fatal(err)
		}
		return e
	}
	if err := e.SetData(cloudevents.ApplicationJSON, data); err != nil {
		t.Fatal(err)
	}
	return e
}

// bump is a payload whose effect is not idempotent by itself (it raises the price), so a
// second application would show.
type bump struct {
	ProductID uuid.UUID `json:"productId"`
	By        int64     `json:"by"`
}

func TestFollow(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	now := refNow()
	const consumer = "products-test-follow"
	var calls sync.Map // product id → applications
	handler := inbox.Handle(f.db, consumer, func(ctx context.Context, tx pgx.Tx, d bump) error {
		return products.Follow(ctx, tx, d.ProductID, func(p *products.Product, at time.Time) bool {
			n, _ := calls.LoadOrStore(p.ID, new(int))
			*n.(*int)++
			p.Price += d.By
			return true
		})
	})
	inbox := func(id uuid.UUID) int {
		return f.count(t, `SELECT count(*) FROM messaging.inbox WHERE consumer = $1 AND event_id = $2`, consumer, id)
	}

	t.Run("once per event id", func(t *testing.T) {
		t.Parallel()
		seed := seedFor(now, products.Reserving)
		f.insert(t, seed)
		id := uuid.New()
		e := cloudEvent(t, id, "price-bumped", bump{ProductID: seed.ID, By: 5})
		for range 2 {
			if err := handler(ctx, e); err != nil {
				t.Fatal(err)
			}
		}
		// The same event delivered four more times at once.
		var wg sync.WaitGroup
		errs := make(chan error, 4)
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs <- handler(ctx, e)
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Error(err)
			}
		}
		if got := f.read(t, seed.ID); got.Price != seed.Price+5 {
			t.Errorf("price = %d, want %d (applied once)", got.Price, seed.Price+5)
		}
		if n := inbox(id); n != 1 {
			t.Errorf("inbox rows = %d, want 1", n)
		}
		// Another event is another application.
		if err := handler(ctx, cloudEvent(t, uuid.New(), "price-bumped", bump{ProductID: seed.ID, By: 7})); err != nil {
			t.Fatal(err)
		}
		if got := f.read(t, seed.ID); got.Price != seed.Price+12 {
			t.Errorf("price = %d, want %d", got.Price, seed.Price+12)
		}
	})

	t.Run("deleted product", func(t *testing.T) {
		t.Parallel()
		seed := seedFor(now, products.SaleCanceled)
		seed.DeletedAt, seed.DeletedBy = ptr(now), ptr(seed.SellerID)
		f.insert(t, seed)
		before := f.read(t, seed.ID)
		id := uuid.New()
		if err := handler(ctx, cloudEvent(t, id, "price-bumped", bump{ProductID: seed.ID, By: 5})); err != nil {
			t.Fatalf("event for a deleted product: %v, want acknowledged", err)
		}
		if got := f.read(t, seed.ID); describe(got) != describe(before) {
			t.Errorf("deleted product changed: %s", describe(got))
		}
		if _, ok := calls.Load(seed.ID); ok {
			t.Error("apply was called for a deleted product")
		}
		if n := inbox(id); n != 1 {
			t.Errorf("inbox rows = %d, want 1 (acknowledged)", n)
		}
	})

	t.Run("unknown product", func(t *testing.T) {
		t.Parallel()
		if err := handler(ctx, cloudEvent(t, uuid.New(), "price-bumped", bump{ProductID: uuid.New(), By: 5})); err != nil {
			t.Fatalf("event for an unknown product: %v, want acknowledged", err)
		}
	})

	t.Run("bad payloads are errors and leave no inbox row", func(t *testing.T) {
		t.Parallel()
		for name, data := range map[string]any{
			"no productId":      []byte(`{"by": 5}`),
			"nil productId":     bump{By: 5},
			"productId not id":  []byte(`{"productId": "42", "by": 5}`),
			"not an object":     []byte(`[1, 2]`),
			"wrong type for by": []byte(`{"productId": "` + uuid.NewString() + `", "by": "five"}`),
		} {
			id := uuid.New()
			err := handler(ctx, cloudEvent(t, id, "price-bumped", data))
			if err == nil {
				t.Errorf("%s: accepted", name)
			} else if f, ok := fault.As(err); !ok || f.Code != "C017" {
				t.Errorf("%s: %v, want the event's fault C017, so it is dead-lettered", name, err)
			}
			if n := inbox(id); n != 0 {
				t.Errorf("%s: inbox rows = %d, want 0 (to be retried)", name, n)
			}
		}
	})
}

// The reservation consumers' effects end to end: decoded reservation events through Follow,
// delivered twice and out of order, leave the product as the newest event says.
func TestFollowReservationEvents(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	now := refNow()
	applied := inbox.Handle(f.db, "products-test-reservation-applied", products.OnReservationApplied)
	completed := inbox.Handle(f.db, "products-test-reservation-completed", products.OnReservationCompleted)
	seed := seedFor(now, products.Reserving)
	seed.BuyerID, seed.ReservationVersion = nil, 0
	seed.StartTime, seed.EndTime = now.Add(-10*time.Minute), now.Add(time.Hour)
	f.insert(t, seed)
	buyer, late := uuid.New(), uuid.New()
	deliver := func(h func(context.Context, cloudevents.Event) error, id uuid.UUID, topic string, d events.ReservationData) {
		t.Helper()
		if err := h(ctx, cloudEvent(t, id, topic, d)); err != nil {
			t.Fatal(err)
		}
	}
	applyID, completeID := uuid.New(), uuid.New()
	deliver(applied, applyID, events.ReservationApplied, events.ReservationData{ProductID: seed.ID, Version: 1, BuyerID: &buyer})
	deliver(applied, applyID, events.ReservationApplied, events.ReservationData{ProductID: seed.ID, Version: 1, BuyerID: &buyer})
	deliver(completed, completeID, events.ReservationCompleted, events.ReservationData{ProductID: seed.ID, Version: 3})
	// A late applied of version 2 (another event id) is older than completed(3): ignored.
	deliver(applied, uuid.New(), events.ReservationApplied, events.ReservationData{ProductID: seed.ID, Version: 2, BuyerID: &late})
	got := f.read(t, seed.ID)
	if got.Status != products.InTrade || got.BuyerID == nil || *got.BuyerID != buyer || got.ReservationVersion != 3 {
		t.Errorf("after applied(1) twice, completed(3), applied(2): %s", describe(got))
	}
	if n := f.count(t, `SELECT count(*) FROM messaging.inbox WHERE event_id IN ($1, $2)`, applyID, completeID); n != 2 {
		t.Errorf("inbox rows = %d, want 2", n)
	}
	if evs := f.outbox(t, seed.ID); len(evs) != 0 {
		t.Errorf("events = %+v, want none", evs)
	}
}
