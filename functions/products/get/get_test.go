package get_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/devstack/stacktest"
	"github.com/8949market/market/shared/events"
	"github.com/8949market/market/shared/events/eventtest"
	"github.com/8949market/market/shared/products"
	"github.com/8949market/market/shared/products/producttest"
)

func path(id uuid.UUID) string { return "/api/v1/products/" + id.String() }

// Any signed-in user reads a product with every field of the view; the deleted, the
// unknown and the malformed are refused with their codes.
func TestGetShowsTheProduct(t *testing.T) {
	t.Parallel()
	st := stacktest.Start(t)
	sellerTok, seller := st.Token(t, auth.RoleUser)
	reader, _ := st.Token(t, auth.RoleUser)
	p := producttest.List(t, st, sellerTok)

	res := st.Do(t, "GET", path(p.ProductID), nil, reader)
	if res.Status != http.StatusOK {
		t.Fatalf("status %d: %s", res.Status, res.Body)
	}
	var raw struct {
		Data map[string]json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(res.Body, &raw); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"productId", "name", "description", "price", "status", "sellerId", "sellerNickname", "startTime", "endTime", "createdAt", "modifiedAt"} {
		if _, ok := raw.Data[k]; !ok {
			t.Errorf("view lacks %q: %s", k, res.Body)
		}
	}
	for _, k := range []string{"failureReason", "failedAt", "buyerId", "deletedAt"} {
		if _, ok := raw.Data[k]; ok {
			t.Errorf("view of a healthy product shows %q: %s", k, res.Body)
		}
	}
	v := producttest.Get(t, st, reader, p.ProductID)
	if v.ProductID != p.ProductID || v.Name != "Film camera" || v.Description != "Works, with strap" || v.Price != 120000 ||
		v.Status != products.PendingReservation || v.SellerID != seller.UserID || v.SellerNickname != seller.Nickname ||
		!v.StartTime.Equal(p.StartTime) || !v.EndTime.Equal(p.EndTime) || !v.CreatedAt.Equal(p.CreatedAt) || !v.ModifiedAt.Equal(p.ModifiedAt) {
		t.Errorf("GET = %+v, created %+v", v, p)
	}

	deleted := producttest.List(t, st, sellerTok)
	producttest.Remove(t, st, sellerTok, deleted.ProductID)
	tests := []struct {
		name, path, token string
		status            int
		code              string
	}{
		{"deleted", path(deleted.ProductID), reader, 404, "P001"},
		{"deleted, asked by its seller", path(deleted.ProductID), sellerTok, 404, "P001"},
		{"unknown", path(uuid.New()), reader, 404, "P001"},
		{"malformed id", "/api/v1/products/12345", reader, 400, "C015"},
		{"no token", path(p.ProductID), "", 401, "C002"},
		{"forged token", path(p.ProductID), reader[:len(reader)-4] + "AAAA", 401, "C002"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			st.Do(t, "GET", tt.path, nil, tt.token).Refused(t, tt.status, tt.code)
		})
	}
}

// watch polls GET until the status flips from `from` to `to` around the instant at, and
// asserts on every answer that the flip happened exactly at that instant: an answer given
// entirely before at shows `from`, an answer asked for at or after at shows `to`. The
// server and the test share a clock (one process). The stored status must still be
// PENDING_RESERVATION afterwards: reads must not depend on the tick having run.
func watch(t *testing.T, st *stacktest.Stack, token string, id uuid.UUID, at time.Time, from, to products.Status) {
	t.Helper()
	deadline := at.Add(10 * time.Second)
	sawFrom := false
	for {
		asked := time.Now()
		v := producttest.Get(t, st, token, id)
		answered := time.Now()
		switch {
		case v.Status == from && !asked.Before(at):
			t.Fatalf("asked %s after the flip at %s, still %s", asked.Format(time.RFC3339Nano), at.Format(time.RFC3339Nano), from)
		case v.Status == to && answered.Before(at):
			t.Fatalf("answered %s, before the flip at %s, already %s", answered.Format(time.RFC3339Nano), at.Format(time.RFC3339Nano), to)
		case v.Status != from && v.Status != to:
			t.Fatalf("status %s, want %s or %s", v.Status, from, to)
		}
		if v.Status == from {
			sawFrom = true
		}
		if v.Status == to {
			if !sawFrom {
				t.Fatalf("never saw %s before %s", from, to)
			}
			if s := producttest.Read(t, st, id).Status; s != string(products.PendingReservation) {
				t.Errorf("stored status %s: reads must not depend on the tick having run", s)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("still %s at %s; the flip was due at %s", v.Status, time.Now().Format(time.RFC3339Nano), at.Format(time.RFC3339Nano))
		}
		time.Sleep(time.Millisecond) // poll interval; the clock, not any async work, flips it
	}
}

// The deal opens at start_time and closes at end_time to the millisecond, with no tick:
// the stored column stays PENDING_RESERVATION and reads report the effective status.
func TestWindowFollowsTheClock(t *testing.T) {
	t.Parallel()
	st := stacktest.Start(t)
	sellerTok, _ := st.Token(t, auth.RoleUser)
	reader, _ := st.Token(t, auth.RoleUser)

	t.Run("opens at start", func(t *testing.T) {
		t.Parallel()
		p := producttest.List(t, st, sellerTok)
		start := time.Now().Add(2 * time.Second).UTC().Truncate(time.Microsecond)
		producttest.SetWindow(t, st, p.ProductID, start, start.Add(time.Hour))
		v := producttest.Get(t, st, reader, p.ProductID)
		if !v.StartTime.Equal(start) {
			t.Fatalf("server start %s, set %s", v.StartTime, start)
		}
		watch(t, st, reader, p.ProductID, v.StartTime, products.PendingReservation, products.Reserving)
	})

	t.Run("expires at end with no buyer", func(t *testing.T) {
		t.Parallel()
		p := producttest.List(t, st, sellerTok)
		end := time.Now().Add(2 * time.Second).UTC().Truncate(time.Microsecond)
		producttest.SetWindow(t, st, p.ProductID, end.Add(-products.MinWindow), end)
		v := producttest.Get(t, st, reader, p.ProductID)
		watch(t, st, reader, p.ProductID, v.EndTime, products.Reserving, products.Expired)
	})

	t.Run("closed window with no buyer reads EXPIRED", func(t *testing.T) {
		t.Parallel()
		p := producttest.List(t, st, sellerTok)
		producttest.SetWindow(t, st, p.ProductID, time.Now().Add(-2*time.Hour), time.Now().Add(-time.Hour))
		if v := producttest.Get(t, st, reader, p.ProductID); v.Status != products.Expired {
			t.Errorf("status %s, want EXPIRED", v.Status)
		}
	})

	// A buyer holds the reservation (reservation-applied, delivered as the backbone
	// would): the window closes, the deal stays RESERVING until the trade settles it.
	for _, order := range []string{"buyer then close", "close then buyer"} {
		t.Run("closed window with a buyer stays RESERVING: "+order, func(t *testing.T) {
			t.Parallel()
			p := producttest.List(t, st, sellerTok)
			now := time.Now()
			if order == "buyer then close" {
				producttest.SetWindow(t, st, p.ProductID, now.Add(-time.Minute), now.Add(time.Hour))
				applied(t, st, p.ProductID)
				producttest.SetWindow(t, st, p.ProductID, now.Add(-2*time.Hour), now.Add(-time.Hour))
			} else {
				producttest.SetWindow(t, st, p.ProductID, now.Add(-2*time.Hour), now.Add(-time.Hour))
				applied(t, st, p.ProductID)
			}
			if v := producttest.Get(t, st, reader, p.ProductID); v.Status != products.Reserving {
				t.Errorf("status %s, want RESERVING while the buyer holds it", v.Status)
			}
		})
	}
}

// applied delivers reservation-applied (version 1, a new buyer) to the products consumer
// as a binary CloudEvent, the way the push bridge does.
func applied(t *testing.T, st *stacktest.Stack, id uuid.UUID) {
	t.Helper()
	buyer := uuid.New()
	data := events.ReservationData{
		ReservationID: uuid.New(), ProductID: id, Version: 1, Status: "PENDING", BuyerID: &buyer, Price: 120000,
	}
	if code := eventtest.Deliver(t, st, "products-reservation-applied", events.ReservationApplied, events.SourceReservations, uuid.New(), data); code/100 != 2 {
		t.Fatalf("reservation-applied: status %d", code)
	}
}
