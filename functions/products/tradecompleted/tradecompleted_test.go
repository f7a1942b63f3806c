package tradecompleted_test

import (
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/devstack/stacktest"
	"github.com/8949market/market/shared/events"
	"github.com/8949market/market/shared/products"
)

const consumer = "products-trade-completed"

// completed delivers trade-completed for product id.
func completed(t *testing.T, st *stacktest.Stack, eventID, id uuid.UUID) int {
	t.Helper()
	return deliver(t, st, consumer, events.TradeCompleted, events.SourceTrades, eventID, events.TradeData{
		TradeID: uuid.New(), ReservationID: uuid.New(), ProductID: id, SellerID: uuid.New(), BuyerID: uuid.New(),
	})
}

func TestTradeCompleted(t *testing.T) {
	t.Parallel()
	st := stacktest.Start(t)
	token, _ := st.Token(t, auth.RoleUser)
	reader, _ := st.Token(t, auth.RoleUser)

	// The trade settled: the product is sold, whether its window is still open or not.
	for _, closes := range []time.Duration{time.Hour, -time.Hour} {
		t.Run("IN_TRADE to COMPLETED, window closes in "+closes.String(), func(t *testing.T) {
			t.Parallel()
			p := onSale(t, st, token, products.InTrade, 2*time.Hour, closes)
			hold(t, st, p.ProductID, 2)
			eventID := uuid.New()
			if code := completed(t, st, eventID, p.ProductID); code/100 != 2 {
				t.Fatalf("status %d", code)
			}
			r := read(t, st, p.ProductID)
			if r.Status != string(products.Completed) || r.BuyerID != nil {
				t.Errorf("row = %+v, want COMPLETED with the buyer released", r)
			}
			if v := get(t, st, reader, p.ProductID); v.Status != products.Completed {
				t.Errorf("GET status %s, want COMPLETED", v.Status)
			}
			if n := inboxRows(t, st, consumer, eventID); n != 1 {
				t.Errorf("%d inbox rows, want 1", n)
			}
		})
	}

	// Only a deal in its trade can be sold by it.
	for _, s := range []products.Status{products.PendingReservation, products.Reserving, products.SaleCanceled, products.Expired, products.Failed, products.Completed} {
		t.Run("ignored when "+string(s), func(t *testing.T) {
			t.Parallel()
			p := onSale(t, st, token, s, time.Minute, time.Hour)
			before := snapshot(t, st, p.ProductID)
			if code := completed(t, st, uuid.New(), p.ProductID); code/100 != 2 {
				t.Fatalf("status %d", code)
			}
			if after := snapshot(t, st, p.ProductID); after != before {
				t.Errorf("changed:\nbefore %s\nafter  %s", before, after)
			}
		})
	}

	t.Run("the same event id twice has one effect", func(t *testing.T) {
		t.Parallel()
		p := onSale(t, st, token, products.InTrade, time.Minute, time.Hour)
		hold(t, st, p.ProductID, 2)
		original := read(t, st, p.ProductID)
		eventID := uuid.New()
		if code := completed(t, st, eventID, p.ProductID); code/100 != 2 {
			t.Fatalf("first delivery: status %d", code)
		}
		restore(t, st, p.ProductID, original)
		before := snapshot(t, st, p.ProductID)
		if code := completed(t, st, eventID, p.ProductID); code/100 != 2 {
			t.Fatalf("second delivery: status %d, want 2xx", code)
		}
		if after := snapshot(t, st, p.ProductID); after != before {
			t.Errorf("second delivery applied again:\nbefore %s\nafter  %s", before, after)
		}
		if n := inboxRows(t, st, consumer, eventID); n != 1 {
			t.Errorf("%d inbox rows, want 1", n)
		}
	})

	t.Run("deleted product: acknowledged, no change", func(t *testing.T) {
		t.Parallel()
		p := list(t, st, token)
		remove(t, st, token, p.ProductID)
		before := snapshot(t, st, p.ProductID)
		eventID := uuid.New()
		if code := completed(t, st, eventID, p.ProductID); code/100 != 2 {
			t.Fatalf("status %d, want 2xx", code)
		}
		if after := snapshot(t, st, p.ProductID); after != before {
			t.Errorf("changed:\nbefore %s\nafter  %s", before, after)
		}
		if n := inboxRows(t, st, consumer, eventID); n != 1 {
			t.Errorf("%d inbox rows, want 1", n)
		}
	})
}
