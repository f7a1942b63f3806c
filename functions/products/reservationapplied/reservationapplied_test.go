package reservationapplied_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/devstack/stacktest"
	"github.com/8949market/market/shared/events"
	"github.com/8949market/market/shared/products"
)

const consumer = "products-reservation-applied"

// apply delivers reservation-applied for product id at version with buyer.
func apply(t *testing.T, st *stacktest.Stack, eventID, id uuid.UUID, version int64, buyer *uuid.UUID) int {
	t.Helper()
	return deliver(t, st, consumer, events.ReservationApplied, events.SourceReservations, eventID, events.ReservationData{
		ReservationID: uuid.New(), ProductID: id, Version: version, Status: "PENDING",
		SellerID: uuid.New(), BuyerID: buyer, BuyerNickname: "buyer", Price: 120000,
	})
}

func TestReservationApplied(t *testing.T) {
	t.Parallel()
	st := stacktest.Start(t)
	token, _ := st.Token(t, auth.RoleUser)
	reader, _ := st.Token(t, auth.RoleUser)

	// The buyer is recorded with the version, and the deal is RESERVING; whatever the
	// stored status was while the deal could still be sold (the tick may have expired it
	// before the event arrived; a cancelled trade hands it to the next applicant).
	recorded := []struct {
		name           string
		status         products.Status
		opened, closes time.Duration
		version        int64
	}{
		{"window open, tick not run", products.PendingReservation, time.Minute, time.Hour, 0},
		{"window open, ticked", products.Reserving, time.Minute, time.Hour, 0},
		{"window closed before the event arrived", products.PendingReservation, 2 * time.Hour, -time.Minute, 0},
		{"expired by the tick before the event arrived", products.Expired, 2 * time.Hour, -time.Minute, 0},
		{"next applicant after a cancelled trade", products.InTrade, time.Minute, time.Hour, 2},
	}
	for _, tt := range recorded {
		t.Run("records the buyer: "+tt.name, func(t *testing.T) {
			t.Parallel()
			p := onSale(t, st, token, tt.status, tt.opened, tt.closes)
			if tt.version > 0 {
				hold(t, st, p.ProductID, tt.version)
			}
			buyer, eventID := uuid.New(), uuid.New()
			if code := apply(t, st, eventID, p.ProductID, tt.version+1, &buyer); code/100 != 2 {
				t.Fatalf("status %d", code)
			}
			r := read(t, st, p.ProductID)
			if r.Status != string(products.Reserving) || r.BuyerID == nil || *r.BuyerID != buyer || r.Version != tt.version+1 {
				t.Errorf("row = %+v, want RESERVING with buyer %s at version %d", r, buyer, tt.version+1)
			}
			if v := get(t, st, reader, p.ProductID); v.Status != products.Reserving {
				t.Errorf("GET status %s, want RESERVING", v.Status)
			}
			if n := inboxRows(t, st, consumer, eventID); n != 1 {
				t.Errorf("%d inbox rows, want 1", n)
			}
		})
	}

	// The window closes while the buyer pays: the deal does not expire.
	t.Run("a deal whose window closed stays RESERVING", func(t *testing.T) {
		t.Parallel()
		p := onSale(t, st, token, products.PendingReservation, time.Minute, time.Hour)
		buyer := uuid.New()
		if code := apply(t, st, uuid.New(), p.ProductID, 1, &buyer); code/100 != 2 {
			t.Fatalf("status %d", code)
		}
		now := time.Now()
		setWindow(t, st, p.ProductID, now.Add(-2*time.Hour), now.Add(-time.Hour))
		if v := get(t, st, reader, p.ProductID); v.Status != products.Reserving {
			t.Errorf("GET status %s after the window closed with a buyer, want RESERVING", v.Status)
		}
	})

	// Events of one reservation travel on several topics: one older than (or as old as)
	// what the product has seen changes nothing.
	t.Run("an older or equal version is ignored", func(t *testing.T) {
		t.Parallel()
		p := onSale(t, st, token, products.Reserving, time.Minute, time.Hour)
		first := uuid.New()
		if code := apply(t, st, uuid.New(), p.ProductID, 3, &first); code/100 != 2 {
			t.Fatalf("status %d", code)
		}
		before := snapshot(t, st, p.ProductID)
		for _, v := range []int64{2, 3} {
			late := uuid.New()
			if code := apply(t, st, uuid.New(), p.ProductID, v, &late); code/100 != 2 {
				t.Fatalf("version %d: status %d, want 2xx (acknowledged, not applied)", v, code)
			}
			if after := snapshot(t, st, p.ProductID); after != before {
				t.Errorf("version %d after 3 changed the product:\nbefore %s\nafter  %s", v, before, after)
			}
		}
		if r := read(t, st, p.ProductID); r.BuyerID == nil || *r.BuyerID != first {
			t.Errorf("buyer = %v, want %s", r.BuyerID, first)
		}
	})

	// A deal that ended (or is sold, or failed) is not sold again.
	for _, s := range []products.Status{products.SaleCanceled, products.Completed, products.Failed} {
		t.Run("ignored when "+string(s), func(t *testing.T) {
			t.Parallel()
			p := onSale(t, st, token, s, time.Minute, time.Hour)
			before := snapshot(t, st, p.ProductID)
			buyer := uuid.New()
			if code := apply(t, st, uuid.New(), p.ProductID, 1, &buyer); code/100 != 2 {
				t.Fatalf("status %d", code)
			}
			if after := snapshot(t, st, p.ProductID); after != before {
				t.Errorf("changed:\nbefore %s\nafter  %s", before, after)
			}
		})
	}

	t.Run("no buyer in the payload changes nothing", func(t *testing.T) {
		t.Parallel()
		p := onSale(t, st, token, products.PendingReservation, time.Minute, time.Hour)
		before := snapshot(t, st, p.ProductID)
		if code := apply(t, st, uuid.New(), p.ProductID, 1, nil); code/100 != 2 {
			t.Fatalf("status %d", code)
		}
		if after := snapshot(t, st, p.ProductID); after != before {
			t.Errorf("changed:\nbefore %s\nafter  %s", before, after)
		}
	})

	// Redelivered with the same id (even if the version guard would let it through), the
	// event is not applied again: the inbox holds one row for it.
	t.Run("the same event id twice has one effect", func(t *testing.T) {
		t.Parallel()
		p := onSale(t, st, token, products.PendingReservation, time.Minute, time.Hour)
		original := read(t, st, p.ProductID)
		buyer, eventID := uuid.New(), uuid.New()
		if code := apply(t, st, eventID, p.ProductID, 1, &buyer); code/100 != 2 {
			t.Fatalf("first delivery: status %d", code)
		}
		restore(t, st, p.ProductID, original)
		before := snapshot(t, st, p.ProductID)
		if code := apply(t, st, eventID, p.ProductID, 1, &buyer); code/100 != 2 {
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
		buyer, eventID := uuid.New(), uuid.New()
		if code := apply(t, st, eventID, p.ProductID, 1, &buyer); code/100 != 2 {
			t.Fatalf("status %d, want 2xx", code)
		}
		if after := snapshot(t, st, p.ProductID); after != before {
			t.Errorf("changed:\nbefore %s\nafter  %s", before, after)
		}
		if n := inboxRows(t, st, consumer, eventID); n != 1 {
			t.Errorf("%d inbox rows, want 1", n)
		}
	})

	// A payload that names no product or does not decode is an error, so the backbone
	// retries it and then dead-letters it; nothing is recorded as processed.
	bad := []struct {
		name string
		data any
	}{
		{"no productId", events.ReservationData{ReservationID: uuid.New(), Version: 1}},
		{"not an object", json.RawMessage(`[1, 2, 3]`)},
	}
	for _, tt := range bad {
		t.Run("refused for redelivery: "+tt.name, func(t *testing.T) {
			t.Parallel()
			eventID := uuid.New()
			if code := deliver(t, st, consumer, events.ReservationApplied, events.SourceReservations, eventID, tt.data); code/100 == 2 {
				t.Fatalf("status %d, want an error so the event is retried", code)
			}
			if n := inboxRows(t, st, consumer, eventID); n != 0 {
				t.Errorf("%d inbox rows for a refused event, want 0", n)
			}
		})
	}
}
