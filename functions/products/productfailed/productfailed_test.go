package productfailed_test

import (
	"net/url"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/devstack/stacktest"
	"github.com/8949market/market/shared/events"
	"github.com/8949market/market/shared/page"
	"github.com/8949market/market/shared/products"
)

const consumer = "products-product-failed"

// failed delivers product-failed for product id with reason.
func failed(t *testing.T, st *stacktest.Stack, eventID, id uuid.UUID, reason string) int {
	t.Helper()
	return deliver(t, st, consumer, events.ProductFailed, events.SourceReservations, eventID, events.ProductFailedData{
		ProductID: id, Reason: reason,
	})
}

func search(t *testing.T, st *stacktest.Stack, token string, q url.Values) []products.Item {
	t.Helper()
	var pg page.Page[products.Item]
	st.Do(t, "GET", "/api/v1/products?"+q.Encode(), nil, token).Data(t, &pg)
	return pg.Content
}

func TestProductFailed(t *testing.T) {
	t.Parallel()
	st := stacktest.Start(t)
	reader, _ := st.Token(t, auth.RoleUser)

	// The reservation could not be opened: the deal cannot be sold. It is FAILED with
	// the reason for everyone to see, and the search finds it under status=FAILED only.
	fails := []struct {
		name           string
		status         products.Status
		opened, closes time.Duration
		buyer          bool
	}{
		{"pending", products.PendingReservation, -time.Hour, 2 * time.Hour, false},
		{"window open, tick not run", products.PendingReservation, time.Minute, time.Hour, false},
		{"reserving with a buyer", products.Reserving, time.Minute, time.Hour, true},
	}
	for _, tt := range fails {
		t.Run("FAILED: "+tt.name, func(t *testing.T) {
			t.Parallel()
			token, seller := st.Token(t, auth.RoleUser)
			p := onSale(t, st, token, tt.status, tt.opened, tt.closes)
			if tt.buyer {
				hold(t, st, p.ProductID, 1)
			}
			eventID := uuid.New()
			asked := time.Now()
			if code := failed(t, st, eventID, p.ProductID, "reservation store unavailable"); code/100 != 2 {
				t.Fatalf("status %d", code)
			}
			if r := read(t, st, p.ProductID); r.Status != string(products.Failed) || r.BuyerID != nil {
				t.Errorf("row = %+v, want FAILED with no buyer", r)
			}
			v := get(t, st, reader, p.ProductID)
			if v.Status != products.Failed || v.FailureReason != "reservation store unavailable" ||
				v.FailedAt == nil || v.FailedAt.Before(asked.Add(-time.Second)) || v.FailedAt.After(time.Now()) {
				t.Errorf("GET = %+v, want FAILED with the reason and when", v)
			}
			mine := url.Values{"sellerId": {seller.UserID.String()}}
			mine.Set("status", "FAILED")
			if items := search(t, st, reader, mine); len(items) != 1 || items[0].ProductID != p.ProductID || items[0].Status != products.Failed {
				t.Errorf("search status=FAILED = %+v, want the product", items)
			}
			for _, other := range []string{"PENDING_RESERVATION", "RESERVING", "EXPIRED"} {
				mine.Set("status", other)
				if items := search(t, st, reader, mine); len(items) != 0 {
					t.Errorf("search status=%s lists the failed product: %+v", other, items)
				}
			}
			if n := inboxRows(t, st, consumer, eventID); n != 1 {
				t.Errorf("%d inbox rows, want 1", n)
			}
		})
	}

	// A deal already in a trade, sold or ended keeps its status; the reason is still
	// shown, never silent.
	for _, s := range []products.Status{products.InTrade, products.Completed, products.SaleCanceled, products.Expired} {
		t.Run("status kept when "+string(s), func(t *testing.T) {
			t.Parallel()
			token, _ := st.Token(t, auth.RoleUser)
			p := onSale(t, st, token, s, time.Minute, time.Hour)
			if code := failed(t, st, uuid.New(), p.ProductID, "late failure"); code/100 != 2 {
				t.Fatalf("status %d", code)
			}
			v := get(t, st, reader, p.ProductID)
			if v.Status != s || v.FailureReason != "late failure" {
				t.Errorf("GET = %+v, want %s with the reason shown", v, s)
			}
		})
	}

	t.Run("the same event id twice has one effect", func(t *testing.T) {
		t.Parallel()
		token, _ := st.Token(t, auth.RoleUser)
		p := list(t, st, token)
		original := read(t, st, p.ProductID)
		eventID := uuid.New()
		if code := failed(t, st, eventID, p.ProductID, "boom"); code/100 != 2 {
			t.Fatalf("first delivery: status %d", code)
		}
		restore(t, st, p.ProductID, original)
		before := snapshot(t, st, p.ProductID)
		if code := failed(t, st, eventID, p.ProductID, "boom"); code/100 != 2 {
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
		token, _ := st.Token(t, auth.RoleUser)
		p := list(t, st, token)
		remove(t, st, token, p.ProductID)
		before := snapshot(t, st, p.ProductID)
		eventID := uuid.New()
		if code := failed(t, st, eventID, p.ProductID, "too late"); code/100 != 2 {
			t.Fatalf("status %d, want 2xx", code)
		}
		if after := snapshot(t, st, p.ProductID); after != before {
			t.Errorf("changed:\nbefore %s\nafter  %s", before, after)
		}
		if n := inboxRows(t, st, consumer, eventID); n != 1 {
			t.Errorf("%d inbox rows, want 1", n)
		}
	})

	t.Run("no productId: refused for redelivery", func(t *testing.T) {
		t.Parallel()
		eventID := uuid.New()
		if code := deliver(t, st, consumer, events.ProductFailed, events.SourceReservations, eventID, events.ProductFailedData{Reason: "x"}); code/100 == 2 {
			t.Fatalf("status %d, want an error so the event is retried", code)
		}
		if n := inboxRows(t, st, consumer, eventID); n != 0 {
			t.Errorf("%d inbox rows for a refused event, want 0", n)
		}
	})
}
