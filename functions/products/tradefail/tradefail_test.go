package tradefail_test

import (
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/devstack/stacktest"
	"github.com/8949market/market/shared/events"
	"github.com/8949market/market/shared/products"
)

const consumer = "products-reservation-tradefail"

// tradeFailed delivers reservation-tradefail for product id with reason.
func tradeFailed(t *testing.T, st *stacktest.Stack, eventID, id uuid.UUID, reason string) int {
	t.Helper()
	return deliver(t, st, consumer, events.ReservationTradeFail, events.SourceReservations, eventID, events.ReservationTradeFailData{
		ReservationID: uuid.New(), ProductID: id, Reason: reason,
	})
}

func TestTradeFail(t *testing.T) {
	t.Parallel()
	st := stacktest.Start(t)
	token, _ := st.Token(t, auth.RoleUser)
	reader, _ := st.Token(t, auth.RoleUser)

	// The trade could not be opened: the reason is shown to whoever reads the product,
	// and a deal in its trade comes back from it (on sale while the window is open,
	// expired once closed). A deal not in a trade only records the reason.
	tests := []struct {
		name           string
		status         products.Status
		opened, closes time.Duration
		want           products.Status
		buyerKept      bool
	}{
		{"in trade, window open", products.InTrade, time.Minute, time.Hour, products.Reserving, false},
		{"in trade, window closed", products.InTrade, 2 * time.Hour, -time.Minute, products.Expired, false},
		{"reserving with a buyer", products.Reserving, time.Minute, time.Hour, products.Reserving, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := onSale(t, st, token, tt.status, tt.opened, tt.closes)
			buyer := hold(t, st, p.ProductID, 2)
			eventID := uuid.New()
			asked := time.Now()
			if code := tradeFailed(t, st, eventID, p.ProductID, "trade service rejected the reservation"); code/100 != 2 {
				t.Fatalf("status %d", code)
			}
			r := read(t, st, p.ProductID)
			if r.Status != string(tt.want) || (tt.buyerKept != (r.BuyerID != nil && *r.BuyerID == buyer)) {
				t.Errorf("row = %+v, want %s (buyer kept: %v)", r, tt.want, tt.buyerKept)
			}
			v := get(t, st, reader, p.ProductID)
			if v.Status != tt.want || v.FailureReason != "trade service rejected the reservation" ||
				v.FailedAt == nil || v.FailedAt.Before(asked.Add(-time.Second)) || v.FailedAt.After(time.Now()) {
				t.Errorf("GET = %+v, want %s with the failure reason and when", v, tt.want)
			}
			if n := inboxRows(t, st, consumer, eventID); n != 1 {
				t.Errorf("%d inbox rows, want 1", n)
			}
		})
	}

	t.Run("the same event id twice has one effect", func(t *testing.T) {
		t.Parallel()
		p := onSale(t, st, token, products.InTrade, time.Minute, time.Hour)
		hold(t, st, p.ProductID, 2)
		original := read(t, st, p.ProductID)
		eventID := uuid.New()
		if code := tradeFailed(t, st, eventID, p.ProductID, "first"); code/100 != 2 {
			t.Fatalf("first delivery: status %d", code)
		}
		restore(t, st, p.ProductID, original)
		before := snapshot(t, st, p.ProductID)
		if code := tradeFailed(t, st, eventID, p.ProductID, "first"); code/100 != 2 {
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
		if code := tradeFailed(t, st, eventID, p.ProductID, "too late"); code/100 != 2 {
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
