package tradefail_test

import (
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/devstack/stacktest"
	"github.com/8949market/market/shared/events"
	"github.com/8949market/market/shared/products"
	"github.com/8949market/market/shared/products/producttest"
)

// consumer is products-reservation-tradefail: the deal's trade could not be opened.
var consumer = producttest.Consumer{
	Name: "products-reservation-tradefail", Topic: events.ReservationTradeFail, Source: events.SourceReservations,
	Event:  func(id uuid.UUID) any { return failure(id, "first") },
	Status: products.InTrade, Version: 2,
}

// failure is reservation-tradefail for product id with reason.
func failure(id uuid.UUID, reason string) events.ReservationTradeFailData {
	return events.ReservationTradeFailData{ReservationID: uuid.New(), ProductID: id, Reason: reason}
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
			p := producttest.OnSale(t, st, token, tt.status, tt.opened, tt.closes)
			buyer := producttest.Hold(t, st, p.ProductID, 2)
			eventID := uuid.New()
			asked := time.Now()
			producttest.Acked(t, consumer.Deliver(t, st, eventID, failure(p.ProductID, "trade service rejected the reservation")))
			r := producttest.Read(t, st, p.ProductID)
			if r.Status != string(tt.want) || (tt.buyerKept != (r.BuyerID != nil && *r.BuyerID == buyer)) {
				t.Errorf("row = %+v, want %s (buyer kept: %v)", r, tt.want, tt.buyerKept)
			}
			v := producttest.Get(t, st, reader, p.ProductID)
			if v.Status != tt.want || v.FailureReason != "trade service rejected the reservation" ||
				v.FailedAt == nil || v.FailedAt.Before(asked.Add(-time.Second)) || v.FailedAt.After(time.Now()) {
				t.Errorf("GET = %+v, want %s with the failure reason and when", v, tt.want)
			}
			consumer.WantInbox(t, st, eventID, 1)
		})
	}

	consumer.Check(t, st)
}
