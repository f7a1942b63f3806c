package tradecancelled_test

import (
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/devstack/stacktest"
	"github.com/8949market/market/shared/events"
	"github.com/8949market/market/shared/products"
)

const consumer = "products-trade-cancelled"

// cancelled delivers trade-cancelled for product id.
func cancelled(t *testing.T, st *stacktest.Stack, eventID, id uuid.UUID) int {
	t.Helper()
	return deliver(t, st, consumer, events.TradeCancelled, events.SourceTrades, eventID, events.TradeData{
		TradeID: uuid.New(), ReservationID: uuid.New(), ProductID: id, SellerID: uuid.New(), BuyerID: uuid.New(),
		Reason: "buyer changed their mind",
	})
}

func TestTradeCancelled(t *testing.T) {
	t.Parallel()
	st := stacktest.Start(t)
	token, _ := st.Token(t, auth.RoleUser)
	reader, _ := st.Token(t, auth.RoleUser)

	// The deal comes back from its trade: on sale again while the window is open,
	// expired once it has closed; the buyer is released either way.
	moves := []struct {
		name           string
		opened, closes time.Duration
		want           products.Status
	}{
		{"window open", time.Minute, time.Hour, products.Reserving},
		{"window closed", 2 * time.Hour, -time.Minute, products.Expired},
	}
	for _, tt := range moves {
		t.Run("IN_TRADE, "+tt.name, func(t *testing.T) {
			t.Parallel()
			p := onSale(t, st, token, products.InTrade, tt.opened, tt.closes)
			hold(t, st, p.ProductID, 2)
			eventID := uuid.New()
			if code := cancelled(t, st, eventID, p.ProductID); code/100 != 2 {
				t.Fatalf("status %d", code)
			}
			r := read(t, st, p.ProductID)
			if r.Status != string(tt.want) || r.BuyerID != nil || r.Version != 2 {
				t.Errorf("row = %+v, want %s with no buyer, version kept", r, tt.want)
			}
			if v := get(t, st, reader, p.ProductID); v.Status != tt.want {
				t.Errorf("GET status %s, want %s", v.Status, tt.want)
			}
			if n := inboxRows(t, st, consumer, eventID); n != 1 {
				t.Errorf("%d inbox rows, want 1", n)
			}
		})
	}

	// Only a deal in its trade comes back from it.
	for _, s := range []products.Status{products.PendingReservation, products.Reserving, products.Completed, products.SaleCanceled, products.Expired, products.Failed} {
		t.Run("ignored when "+string(s), func(t *testing.T) {
			t.Parallel()
			p := onSale(t, st, token, s, time.Minute, time.Hour)
			hold(t, st, p.ProductID, 1)
			before := snapshot(t, st, p.ProductID)
			if code := cancelled(t, st, uuid.New(), p.ProductID); code/100 != 2 {
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
		if code := cancelled(t, st, eventID, p.ProductID); code/100 != 2 {
			t.Fatalf("first delivery: status %d", code)
		}
		restore(t, st, p.ProductID, original)
		before := snapshot(t, st, p.ProductID)
		if code := cancelled(t, st, eventID, p.ProductID); code/100 != 2 {
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
		if code := cancelled(t, st, eventID, p.ProductID); code/100 != 2 {
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
