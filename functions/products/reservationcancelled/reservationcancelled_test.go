package reservationcancelled_test

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

const consumer = "products-reservation-cancelled"

// cancel delivers reservation-cancelled for product id at version.
func cancel(t *testing.T, st *stacktest.Stack, eventID, id uuid.UUID, version int64) int {
	t.Helper()
	return deliver(t, st, consumer, events.ReservationCancelled, events.SourceReservations, eventID, events.ReservationData{
		ReservationID: uuid.New(), ProductID: id, Version: version, Status: "CANCELLED",
		SellerID: uuid.New(), Price: 120000, Reason: "buyer cancelled",
	})
}

func TestReservationCancelled(t *testing.T) {
	t.Parallel()
	st := stacktest.Start(t)
	token, _ := st.Token(t, auth.RoleUser)
	reader, _ := st.Token(t, auth.RoleUser)

	// The buyer is dropped: the deal is on sale again while its window is open, expired
	// once it has closed; from a reservation or from its trade alike.
	moves := []struct {
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
	}
	for _, tt := range moves {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := onSale(t, st, token, tt.status, tt.opened, tt.closes)
			hold(t, st, p.ProductID, 1)
			eventID := uuid.New()
			if code := cancel(t, st, eventID, p.ProductID, 2); code/100 != 2 {
				t.Fatalf("status %d", code)
			}
			r := read(t, st, p.ProductID)
			if r.Status != string(tt.want) || r.BuyerID != nil || r.Version != 2 {
				t.Errorf("row = %+v, want %s with no buyer at version 2", r, tt.want)
			}
			if v := get(t, st, reader, p.ProductID); v.Status != tt.want {
				t.Errorf("GET status %s, want %s", v.Status, tt.want)
			}
			if n := inboxRows(t, st, consumer, eventID); n != 1 {
				t.Errorf("%d inbox rows, want 1", n)
			}
		})
	}

	// Out-of-order delivery: a cancellation older than (or as old as) the buyer the
	// product knows of leaves that buyer in place.
	for _, v := range []int64{2, 3} {
		t.Run(fmt.Sprintf("version %d after 3 is ignored", v), func(t *testing.T) {
			t.Parallel()
			p := onSale(t, st, token, products.Reserving, 2*time.Hour, -time.Minute)
			buyer := hold(t, st, p.ProductID, 3)
			before := snapshot(t, st, p.ProductID)
			if code := cancel(t, st, uuid.New(), p.ProductID, v); code/100 != 2 {
				t.Fatalf("status %d, want 2xx (acknowledged, not applied)", code)
			}
			if after := snapshot(t, st, p.ProductID); after != before {
				t.Errorf("changed:\nbefore %s\nafter  %s", before, after)
			}
			if r := read(t, st, p.ProductID); r.BuyerID == nil || *r.BuyerID != buyer {
				t.Errorf("buyer = %v, want %s", r.BuyerID, buyer)
			}
			// The window closed, but the buyer still holds the deal.
			if got := get(t, st, reader, p.ProductID); got.Status != products.Reserving {
				t.Errorf("GET status %s, want RESERVING", got.Status)
			}
		})
	}

	for _, s := range []products.Status{products.SaleCanceled, products.Completed, products.Failed, products.Expired} {
		t.Run("ignored when "+string(s), func(t *testing.T) {
			t.Parallel()
			p := onSale(t, st, token, s, time.Minute, time.Hour)
			before := snapshot(t, st, p.ProductID)
			if code := cancel(t, st, uuid.New(), p.ProductID, 1); code/100 != 2 {
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
		if code := cancel(t, st, eventID, p.ProductID, 2); code/100 != 2 {
			t.Fatalf("first delivery: status %d", code)
		}
		restore(t, st, p.ProductID, original)
		before := snapshot(t, st, p.ProductID)
		if code := cancel(t, st, eventID, p.ProductID, 2); code/100 != 2 {
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
		if code := cancel(t, st, eventID, p.ProductID, 2); code/100 != 2 {
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
