package cancel_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/8949market/market/shared/devstack/stacktest"
	"github.com/8949market/market/shared/events"
	"github.com/8949market/market/shared/events/eventtest"
	"github.com/8949market/market/shared/products"
	"github.com/8949market/market/shared/products/producttest"
)

func path(id uuid.UUID) string { return "/api/v1/products/" + id.String() + "/cancel" }

// checkCancelled asserts that the sale ended: SALE_CANCELED in the answer, the row (with
// no buyer left) and a later GET, and one product-cancelled event naming who cancelled.
func checkCancelled(t testing.TB, st *stacktest.Stack, res stacktest.Response, id uuid.UUID, by uuid.UUID, reader string) {
	t.Helper()
	if res.Status != http.StatusOK {
		t.Fatalf("cancel: status %d: %s", res.Status, res.Body)
	}
	var v products.View
	res.Data(t, &v)
	if v.ProductID != id || v.Status != products.SaleCanceled {
		t.Errorf("answer = %+v, want SALE_CANCELED", v)
	}
	var status string
	var buyer, modifiedBy *uuid.UUID
	var deletedAt *time.Time
	if err := st.Kit.DB.QueryRow(context.Background(),
		`SELECT status, buyer_id, modified_by, deleted_at FROM products.products WHERE id = $1`, id).
		Scan(&status, &buyer, &modifiedBy, &deletedAt); err != nil {
		t.Fatal(err)
	}
	if status != string(products.SaleCanceled) || buyer != nil || modifiedBy == nil || *modifiedBy != by || deletedAt != nil {
		t.Errorf("row status %s buyer %v modified_by %v deleted_at %v", status, buyer, modifiedBy, deletedAt)
	}
	if got := producttest.Get(t, st, reader, id); got.Status != products.SaleCanceled {
		t.Errorf("GET status = %s, want SALE_CANCELED", got.Status)
	}
	cancelled := eventtest.Events[events.ProductCancelledData](t, st.Kit.DB, id, events.ProductCancelled)
	if len(cancelled) != 1 || cancelled[0].ProductID != id || cancelled[0].Deleted || cancelled[0].By != by {
		t.Errorf("product-cancelled events = %+v, want one {productId %s deleted false by %s}", cancelled, id, by)
	}
	if n := len(eventtest.Events[events.ProductUpdatedData](t, st.Kit.DB, id, events.ProductUpdated)); n != 0 {
		t.Errorf("%d product-updated events, want none", n)
	}
}

// cancellation is PATCH /api/v1/products/{id}/cancel, checked by checkCancelled with
// reader reading the product back.
func cancellation(st *stacktest.Stack, reader string) producttest.Change {
	return producttest.Change{
		Method: "PATCH", Path: path, Malformed: "/api/v1/products/not-a-uuid/cancel",
		Request: func() (any, producttest.Made) {
			return nil, func(t testing.TB, res stacktest.Response, p products.View, by uuid.UUID) {
				checkCancelled(t, st, res, p.ProductID, by, reader)
			}
		},
	}
}

// Only the seller (by id) or an administrator may cancel; identity claimed in headers
// counts for nothing, only the token does.
func TestCancelOwnerOrAdmin(t *testing.T) {
	t.Parallel()
	st := stacktest.Start(t)
	who := producttest.NewParties(t, st)
	producttest.OwnerOrAdmin(t, st, who, cancellation(st, who.OtherToken))
}

// A deal can be cancelled while it is on sale (pending or reserving, whatever the tick has
// written), never once it is in a trade or sold, and not again once it has ended.
func TestCancelStateRules(t *testing.T) {
	t.Parallel()
	st := stacktest.Start(t)
	who := producttest.NewParties(t, st)
	change := cancellation(st, who.OtherToken)
	window, stored, withBuyer := producttest.Window, producttest.StoredIn, producttest.WithBuyer
	cancelled := func(t testing.TB, st *stacktest.Stack, id uuid.UUID, _ time.Time) {
		checkCancelled(t, st, st.Do(t, "PATCH", path(id), nil, who.SellerToken), id, who.Seller.UserID, who.OtherToken)
	}
	producttest.StateRules(t, st, who, change, []producttest.Case{
		{Name: "pending", Setup: producttest.Listed, Status: http.StatusOK},
		{Name: "pending inside the last minute", Setup: window(30*time.Second, time.Hour), Status: http.StatusOK},
		{Name: "window open, tick not run yet", Setup: window(-time.Minute, time.Hour), Status: http.StatusOK},
		{Name: "stored RESERVING", Setup: stored(products.Reserving, -time.Minute, time.Hour), Status: http.StatusOK},
		{Name: "stored RESERVING with a buyer", Setup: withBuyer(stored(products.Reserving, -time.Minute, time.Hour)), Status: http.StatusOK},
		{Name: "window closed while a buyer holds it", Setup: withBuyer(stored(products.Reserving, -2*time.Hour, -time.Hour)), Status: http.StatusOK},
		{Name: "stored IN_TRADE", Setup: stored(products.InTrade, -time.Minute, time.Hour), Status: http.StatusConflict, Code: "P005"},
		{Name: "stored COMPLETED", Setup: stored(products.Completed, -2*time.Hour, -time.Hour), Status: http.StatusConflict, Code: "P005"},
		{Name: "stored SALE_CANCELED", Setup: stored(products.SaleCanceled, time.Hour, 2*time.Hour), Status: http.StatusConflict, Code: "P005"},
		{Name: "stored EXPIRED", Setup: stored(products.Expired, -2*time.Hour, -time.Hour), Status: http.StatusConflict, Code: "P005"},
		{Name: "stored FAILED", Setup: stored(products.Failed, time.Hour, 2*time.Hour), Status: http.StatusConflict, Code: "P005"},
		// The window closes at end_time whatever the tick has written: a deal that shows
		// EXPIRED has ended and cannot be cancelled any more than a ticked one.
		{Name: "window closed with no buyer, tick not run yet", Setup: window(-2*time.Hour, -time.Hour), Status: http.StatusConflict, Code: "P005"},
		{Name: "twice", Setup: cancelled, Status: http.StatusConflict, Code: "P005"},
		{Name: "deleted", Setup: producttest.Deleted(who.SellerToken), Status: http.StatusNotFound, Code: "P001"},
	})

	// A cancelled deal no longer changes: neither information nor schedule.
	t.Run("no change after cancel", func(t *testing.T) {
		t.Parallel()
		p := producttest.List(t, st, who.SellerToken)
		cancelled(t, st, p.ProductID, time.Now())
		before := producttest.Capture(t, st, p.ProductID)
		st.Do(t, "PATCH", "/api/v1/products/"+p.ProductID.String(), map[string]any{"price": 5}, who.SellerToken).Refused(t, http.StatusConflict, "P005")
		start := time.Now().Add(3 * time.Hour)
		st.Do(t, "PATCH", "/api/v1/products/"+p.ProductID.String()+"/schedule",
			map[string]any{"startTime": producttest.Timestamp(start), "endTime": producttest.Timestamp(start.Add(time.Hour))}, who.SellerToken).
			Refused(t, http.StatusConflict, "P005")
		before.Unchanged(t, st, p.ProductID)
	})
}
