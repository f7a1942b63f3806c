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
	"github.com/8949market/market/shared/products/producttest"
)

// consumer is products-product-failed: a product the reservation domain could not open
// for sale fails.
var consumer = producttest.Consumer{
	Name: "products-product-failed", Topic: events.ProductFailed, Source: events.SourceReservations,
	Event: func(id uuid.UUID) any { return failure(id, "boom") },
	Malformed: []producttest.Payload{
		{Name: "no productId: refused for redelivery", Data: events.ProductFailedData{Reason: "x"}},
	},
}

// failure is product-failed for product id with reason.
func failure(id uuid.UUID, reason string) events.ProductFailedData {
	return events.ProductFailedData{ProductID: id, Reason: reason}
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
			p := producttest.OnSale(t, st, token, tt.status, tt.opened, tt.closes)
			if tt.buyer {
				producttest.Hold(t, st, p.ProductID, 1)
			}
			eventID := uuid.New()
			asked := time.Now()
			producttest.Acked(t, consumer.Deliver(t, st, eventID, failure(p.ProductID, "reservation store unavailable")))
			if r := producttest.Read(t, st, p.ProductID); r.Status != string(products.Failed) || r.BuyerID != nil {
				t.Errorf("row = %+v, want FAILED with no buyer", r)
			}
			v := producttest.Get(t, st, reader, p.ProductID)
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
			consumer.WantInbox(t, st, eventID, 1)
		})
	}

	// A deal already in a trade, sold or ended keeps its status; the reason is still
	// shown, never silent.
	for _, s := range []products.Status{products.InTrade, products.Completed, products.SaleCanceled, products.Expired} {
		t.Run("status kept when "+string(s), func(t *testing.T) {
			t.Parallel()
			token, _ := st.Token(t, auth.RoleUser)
			p := producttest.OnSale(t, st, token, s, time.Minute, time.Hour)
			producttest.Acked(t, consumer.Deliver(t, st, uuid.New(), failure(p.ProductID, "late failure")))
			v := producttest.Get(t, st, reader, p.ProductID)
			if v.Status != s || v.FailureReason != "late failure" {
				t.Errorf("GET = %+v, want %s with the reason shown", v, s)
			}
		})
	}

	consumer.Check(t, st)
}
