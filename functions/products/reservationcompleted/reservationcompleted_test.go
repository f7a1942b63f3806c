package reservationcompleted_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/devstack/stacktest"
	"github.com/8949market/market/shared/events"
	"github.com/8949market/market/shared/products"
)

const consumer = "products-reservation-completed"

// complete delivers reservation-completed for product id at version.
func complete(t *testing.T, st *stacktest.Stack, eventID, id uuid.UUID, version int64) int {
	t.Helper()
	buyer := uuid.New()
	return deliver(t, st, consumer, events.ReservationCompleted, events.SourceReservations, eventID, events.ReservationData{
		ReservationID: uuid.New(), ProductID: id, Version: version, Status: "COMPLETED",
		SellerID: uuid.New(), BuyerID: &buyer, Price: 120000,
	})
}

func TestReservationCompleted(t *testing.T) {
	t.Parallel()
	st := stacktest.Start(t)
	token, _ := st.Token(t, auth.RoleUser)
	reader, _ := st.Token(t, auth.RoleUser)

	// The buyer paid: the deal goes to its trade, window open or closed, and keeps its
	// buyer.
	moves := []struct {
		name           string
		status         products.Status
		opened, closes time.Duration
	}{
		{"window open", products.Reserving, time.Minute, time.Hour},
		{"window open, tick not run", products.PendingReservation, time.Minute, time.Hour},
		{"window closed while the buyer held it", products.Reserving, 2 * time.Hour, -time.Minute},
		{"expired by the tick before the event arrived", products.Expired, 2 * time.Hour, -time.Minute},
	}
	for _, tt := range moves {
		t.Run("to IN_TRADE: "+tt.name, func(t *testing.T) {
			t.Parallel()
			p := onSale(t, st, token, tt.status, tt.opened, tt.closes)
			buyer := hold(t, st, p.ProductID, 1)
			eventID := uuid.New()
			if code := complete(t, st, eventID, p.ProductID, 2); code/100 != 2 {
				t.Fatalf("status %d", code)
			}
			r := read(t, st, p.ProductID)
			if r.Status != string(products.InTrade) || r.BuyerID == nil || *r.BuyerID != buyer || r.Version != 2 {
				t.Errorf("row = %+v, want IN_TRADE with buyer %s at version 2", r, buyer)
			}
			if v := get(t, st, reader, p.ProductID); v.Status != products.InTrade {
				t.Errorf("GET status %s, want IN_TRADE", v.Status)
			}
			if n := inboxRows(t, st, consumer, eventID); n != 1 {
				t.Errorf("%d inbox rows, want 1", n)
			}
		})
	}

	// Out-of-order delivery: the product has seen version 3 (say the reservation was
	// cancelled after it completed); version 2 or 3 again changes nothing.
	for _, v := range []int64{2, 3} {
		t.Run(fmt.Sprintf("version %d after 3 is ignored", v), func(t *testing.T) {
			t.Parallel()
			p := onSale(t, st, token, products.Reserving, time.Minute, time.Hour)
			hold(t, st, p.ProductID, 3)
			before := snapshot(t, st, p.ProductID)
			if code := complete(t, st, uuid.New(), p.ProductID, v); code/100 != 2 {
				t.Fatalf("status %d, want 2xx (acknowledged, not applied)", code)
			}
			if after := snapshot(t, st, p.ProductID); after != before {
				t.Errorf("version %d after 3 changed the product:\nbefore %s\nafter  %s", v, before, after)
			}
			if got := get(t, st, reader, p.ProductID); got.Status != products.Reserving {
				t.Errorf("GET status %s, want RESERVING", got.Status)
			}
		})
	}

	for _, s := range []products.Status{products.SaleCanceled, products.Completed, products.Failed, products.InTrade} {
		t.Run("ignored when "+string(s), func(t *testing.T) {
			t.Parallel()
			p := onSale(t, st, token, s, time.Minute, time.Hour)
			before := snapshot(t, st, p.ProductID)
			if code := complete(t, st, uuid.New(), p.ProductID, 1); code/100 != 2 {
				t.Fatalf("status %d", code)
			}
			if after := snapshot(t, st, p.ProductID); after != before {
				t.Errorf("changed:\nbefore %s\nafter  %s", before, after)
			}
		})
	}

	t.Run("the same event id twice has one effect", func(t *testing.T) {
		t.Parallel()
		p := onSale(t, st, token, products.Reserving, time.Minute, time.Hour)
		hold(t, st, p.ProductID, 1)
		original := read(t, st, p.ProductID)
		eventID := uuid.New()
		if code := complete(t, st, eventID, p.ProductID, 2); code/100 != 2 {
			t.Fatalf("first delivery: status %d", code)
		}
		restore(t, st, p.ProductID, original)
		before := snapshot(t, st, p.ProductID)
		if code := complete(t, st, eventID, p.ProductID, 2); code/100 != 2 {
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
		if code := complete(t, st, eventID, p.ProductID, 2); code/100 != 2 {
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
