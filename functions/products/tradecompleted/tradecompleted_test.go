package tradecompleted_test

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

// consumer is products-trade-completed: the deal's trade settled.
var consumer = producttest.Consumer{
	Name: "products-trade-completed", Topic: events.TradeCompleted, Source: events.SourceTrades,
	Event:  func(id uuid.UUID) any { return producttest.Trade(id) },
	Status: products.InTrade, Version: 2,
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
			p := producttest.OnSale(t, st, token, products.InTrade, 2*time.Hour, closes)
			producttest.Hold(t, st, p.ProductID, 2)
			eventID := uuid.New()
			producttest.Acked(t, consumer.Deliver(t, st, eventID, producttest.Trade(p.ProductID)))
			r := producttest.Read(t, st, p.ProductID)
			if r.Status != string(products.Completed) || r.BuyerID != nil {
				t.Errorf("row = %+v, want COMPLETED with the buyer released", r)
			}
			if v := producttest.Get(t, st, reader, p.ProductID); v.Status != products.Completed {
				t.Errorf("GET status %s, want COMPLETED", v.Status)
			}
			consumer.WantInbox(t, st, eventID, 1)
		})
	}

	// Only a deal in its trade can be sold by it.
	for _, s := range []products.Status{products.PendingReservation, products.Reserving, products.SaleCanceled, products.Expired, products.Failed, products.Completed} {
		t.Run("ignored when "+string(s), func(t *testing.T) {
			t.Parallel()
			p := producttest.OnSale(t, st, token, s, time.Minute, time.Hour)
			producttest.Unmoved(t, st, p.ProductID, func() int { return consumer.Deliver(t, st, uuid.New(), producttest.Trade(p.ProductID)) })
		})
	}

	consumer.Check(t, st)
}
