package tradecancelled_test

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

// consumer is products-trade-cancelled: the deal's trade was cancelled.
var consumer = producttest.Consumer{
	Name: "products-trade-cancelled", Topic: events.TradeCancelled, Source: events.SourceTrades,
	Event:  func(id uuid.UUID) any { return cancellation(id) },
	Status: products.InTrade, Version: 2,
}

// cancellation is trade-cancelled for product id.
func cancellation(id uuid.UUID) events.TradeData {
	d := producttest.Trade(id)
	d.Reason = "buyer changed their mind"
	return d
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
			p := producttest.OnSale(t, st, token, products.InTrade, tt.opened, tt.closes)
			producttest.Hold(t, st, p.ProductID, 2)
			eventID := uuid.New()
			producttest.Acked(t, consumer.Deliver(t, st, eventID, cancellation(p.ProductID)))
			r := producttest.Read(t, st, p.ProductID)
			if r.Status != string(tt.want) || r.BuyerID != nil || r.Version != 2 {
				t.Errorf("row = %+v, want %s with no buyer, version kept", r, tt.want)
			}
			if v := producttest.Get(t, st, reader, p.ProductID); v.Status != tt.want {
				t.Errorf("GET status %s, want %s", v.Status, tt.want)
			}
			consumer.WantInbox(t, st, eventID, 1)
		})
	}

	// Only a deal in its trade comes back from it.
	for _, s := range []products.Status{products.PendingReservation, products.Reserving, products.Completed, products.SaleCanceled, products.Expired, products.Failed} {
		t.Run("ignored when "+string(s), func(t *testing.T) {
			t.Parallel()
			p := producttest.OnSale(t, st, token, s, time.Minute, time.Hour)
			producttest.Hold(t, st, p.ProductID, 1)
			producttest.Unmoved(t, st, p.ProductID, func() int { return consumer.Deliver(t, st, uuid.New(), cancellation(p.ProductID)) })
		})
	}

	consumer.Check(t, st)
}
