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
	"github.com/8949market/market/shared/products/producttest"
)

// applicant applies for the products of the common checks.
var applicant = uuid.New()

// consumer is products-reservation-applied: an applicant became the buyer. The payloads
// that name no product or do not decode are errors, so the backbone retries them and then
// dead-letters them.
var consumer = producttest.Consumer{
	Name: "products-reservation-applied", Topic: events.ReservationApplied, Source: events.SourceReservations,
	Event:  func(id uuid.UUID) any { return application(id, 1, &applicant) },
	Status: products.PendingReservation,
	Malformed: []producttest.Payload{
		{Name: "refused for redelivery: no productId", Data: events.ReservationData{ReservationID: uuid.New(), Version: 1}},
		{Name: "refused for redelivery: not an object", Data: json.RawMessage(`[1, 2, 3]`)},
	},
}

// application is reservation-applied for product id at version with buyer.
func application(id uuid.UUID, version int64, buyer *uuid.UUID) events.ReservationData {
	d := producttest.Reservation(id, version, "PENDING")
	d.BuyerID, d.BuyerNickname = buyer, "buyer"
	return d
}

// apply delivers reservation-applied for product id at version with buyer.
func apply(t *testing.T, st *stacktest.Stack, eventID, id uuid.UUID, version int64, buyer *uuid.UUID) int {
	t.Helper()
	return consumer.Deliver(t, st, eventID, application(id, version, buyer))
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
			p := producttest.OnSale(t, st, token, tt.status, tt.opened, tt.closes)
			if tt.version > 0 {
				producttest.Hold(t, st, p.ProductID, tt.version)
			}
			buyer, eventID := uuid.New(), uuid.New()
			producttest.Acked(t, apply(t, st, eventID, p.ProductID, tt.version+1, &buyer))
			r := producttest.Read(t, st, p.ProductID)
			if r.Status != string(products.Reserving) || r.BuyerID == nil || *r.BuyerID != buyer || r.Version != tt.version+1 {
				t.Errorf("row = %+v, want RESERVING with buyer %s at version %d", r, buyer, tt.version+1)
			}
			if v := producttest.Get(t, st, reader, p.ProductID); v.Status != products.Reserving {
				t.Errorf("GET status %s, want RESERVING", v.Status)
			}
			consumer.WantInbox(t, st, eventID, 1)
		})
	}

	// The window closes while the buyer pays: the deal does not expire.
	t.Run("a deal whose window closed stays RESERVING", func(t *testing.T) {
		t.Parallel()
		p := producttest.OnSale(t, st, token, products.PendingReservation, time.Minute, time.Hour)
		buyer := uuid.New()
		producttest.Acked(t, apply(t, st, uuid.New(), p.ProductID, 1, &buyer))
		now := time.Now()
		producttest.SetWindow(t, st, p.ProductID, now.Add(-2*time.Hour), now.Add(-time.Hour))
		if v := producttest.Get(t, st, reader, p.ProductID); v.Status != products.Reserving {
			t.Errorf("GET status %s after the window closed with a buyer, want RESERVING", v.Status)
		}
	})

	// Events of one reservation travel on several topics: one older than (or as old as)
	// what the product has seen changes nothing.
	t.Run("an older or equal version is ignored", func(t *testing.T) {
		t.Parallel()
		p := producttest.OnSale(t, st, token, products.Reserving, time.Minute, time.Hour)
		first := uuid.New()
		producttest.Acked(t, apply(t, st, uuid.New(), p.ProductID, 3, &first))
		for _, v := range []int64{2, 3} {
			late := uuid.New()
			producttest.Unmoved(t, st, p.ProductID, func() int { return apply(t, st, uuid.New(), p.ProductID, v, &late) })
		}
		if r := producttest.Read(t, st, p.ProductID); r.BuyerID == nil || *r.BuyerID != first {
			t.Errorf("buyer = %v, want %s", r.BuyerID, first)
		}
	})

	// A deal that ended (or is sold, or failed) is not sold again.
	for _, s := range []products.Status{products.SaleCanceled, products.Completed, products.Failed} {
		t.Run("ignored when "+string(s), func(t *testing.T) {
			t.Parallel()
			p := producttest.OnSale(t, st, token, s, time.Minute, time.Hour)
			buyer := uuid.New()
			producttest.Unmoved(t, st, p.ProductID, func() int { return apply(t, st, uuid.New(), p.ProductID, 1, &buyer) })
		})
	}

	t.Run("no buyer in the payload changes nothing", func(t *testing.T) {
		t.Parallel()
		p := producttest.OnSale(t, st, token, products.PendingReservation, time.Minute, time.Hour)
		producttest.Unmoved(t, st, p.ProductID, func() int { return apply(t, st, uuid.New(), p.ProductID, 1, nil) })
	})

	consumer.Check(t, st)
}
