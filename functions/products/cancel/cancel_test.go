package cancel_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/devstack/stacktest"
	"github.com/8949market/market/shared/events"
	"github.com/8949market/market/shared/products"
)

func path(id uuid.UUID) string { return "/api/v1/products/" + id.String() + "/cancel" }

// checkCancelled asserts that the sale ended: SALE_CANCELED in the answer, the row (with
// no buyer left) and a later GET, and one product-cancelled event naming who cancelled.
func checkCancelled(t *testing.T, st *stacktest.Stack, res stacktest.Response, id uuid.UUID, by uuid.UUID, reader string) {
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
	var got products.View
	st.Do(t, "GET", "/api/v1/products/"+id.String(), nil, reader).Data(t, &got)
	if got.Status != products.SaleCanceled {
		t.Errorf("GET status = %s, want SALE_CANCELED", got.Status)
	}
	cancelled := outboxEvents[events.ProductCancelledData](t, st, id, events.ProductCancelled)
	if len(cancelled) != 1 || cancelled[0].ProductID != id || cancelled[0].Deleted || cancelled[0].By != by {
		t.Errorf("product-cancelled events = %+v, want one {productId %s deleted false by %s}", cancelled, id, by)
	}
	if n := len(outboxEvents[events.ProductUpdatedData](t, st, id, events.ProductUpdated)); n != 0 {
		t.Errorf("%d product-updated events, want none", n)
	}
}

// Only the seller (by id) or an administrator may cancel; identity claimed in headers
// counts for nothing, only the token does.
func TestCancelOwnerOrAdmin(t *testing.T) {
	t.Parallel()
	st := stacktest.Start(t)
	sellerTok, seller := st.Token(t, auth.RoleUser)
	otherTok, _ := st.Token(t, auth.RoleUser)
	managerTok, manager := st.Token(t, auth.RoleManager)
	masterTok, master := st.Token(t, auth.RoleMaster)
	own := path
	malformed := func(uuid.UUID) string { return "/api/v1/products/not-a-uuid/cancel" }
	unknown := func(uuid.UUID) string { return path(uuid.New()) }

	tests := []struct {
		name    string
		token   string
		headers map[string]string
		path    func(uuid.UUID) string
		status  int
		code    string
		by      uuid.UUID
	}{
		{"seller", sellerTok, nil, own, 200, "", seller.UserID},
		{"manager", managerTok, nil, own, 200, "", manager.UserID},
		{"master", masterTok, nil, own, 200, "", master.UserID},
		{"another user", otherTok, nil, own, 403, "P009", uuid.Nil},
		{"another user naming the seller in identity headers", otherTok, spoof(seller), own, 403, "P009", uuid.Nil},
		{"no token", "", nil, own, 401, "C002", uuid.Nil},
		{"no token, identity headers only", "", spoof(seller), own, 401, "C002", uuid.Nil},
		{"malformed id", sellerTok, nil, malformed, 400, "C015", uuid.Nil},
		{"unknown id", sellerTok, nil, unknown, 404, "P001", uuid.Nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := list(t, st, sellerTok)
			before := capture(t, st, p.ProductID)
			res := doWith(t, st, "PATCH", tt.path(p.ProductID), nil, tt.token, tt.headers)
			if tt.status == http.StatusOK {
				checkCancelled(t, st, res, p.ProductID, tt.by, otherTok)
				return
			}
			wantError(t, res, tt.status, tt.code)
			before.unchanged(t, st, p.ProductID)
		})
	}
}

// A deal can be cancelled while it is on sale (pending or reserving, whatever the tick has
// written), never once it is in a trade or sold, and not again once it has ended.
func TestCancelStateRules(t *testing.T) {
	t.Parallel()
	st := stacktest.Start(t)
	token, seller := st.Token(t, auth.RoleUser)
	reader, _ := st.Token(t, auth.RoleUser)

	type setup func(t *testing.T, id uuid.UUID, now time.Time)
	window := func(start, end time.Duration) setup {
		return func(t *testing.T, id uuid.UUID, now time.Time) { setWindow(t, st, id, now.Add(start), now.Add(end)) }
	}
	status := func(s products.Status, start, end time.Duration) setup {
		return func(t *testing.T, id uuid.UUID, now time.Time) {
			setWindow(t, st, id, now.Add(start), now.Add(end))
			setStatus(t, st, id, s)
		}
	}
	withBuyer := func(s setup) setup {
		return func(t *testing.T, id uuid.UUID, now time.Time) {
			s(t, id, now)
			exec(t, st, `UPDATE products.products SET buyer_id = $2, reservation_version = 1 WHERE id = $1`, id, uuid.New())
		}
	}
	tests := []struct {
		name  string
		setup setup
		ok    bool
	}{
		{"pending", func(*testing.T, uuid.UUID, time.Time) {}, true},
		{"pending inside the last minute", window(30*time.Second, time.Hour), true},
		{"window open, tick not run yet", window(-time.Minute, time.Hour), true},
		{"stored RESERVING", status(products.Reserving, -time.Minute, time.Hour), true},
		{"stored RESERVING with a buyer", withBuyer(status(products.Reserving, -time.Minute, time.Hour)), true},
		{"window closed while a buyer holds it", withBuyer(status(products.Reserving, -2*time.Hour, -time.Hour)), true},
		{"stored IN_TRADE", status(products.InTrade, -time.Minute, time.Hour), false},
		{"stored COMPLETED", status(products.Completed, -2*time.Hour, -time.Hour), false},
		{"stored SALE_CANCELED", status(products.SaleCanceled, time.Hour, 2*time.Hour), false},
		{"stored EXPIRED", status(products.Expired, -2*time.Hour, -time.Hour), false},
		{"stored FAILED", status(products.Failed, time.Hour, 2*time.Hour), false},
		// The window closes at end_time whatever the tick has written: a deal that shows
		// EXPIRED has ended and cannot be cancelled any more than a ticked one.
		{"window closed with no buyer, tick not run yet", window(-2*time.Hour, -time.Hour), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := list(t, st, token)
			tt.setup(t, p.ProductID, time.Now())
			before := capture(t, st, p.ProductID)
			res := st.Do(t, "PATCH", path(p.ProductID), nil, token)
			if tt.ok {
				checkCancelled(t, st, res, p.ProductID, seller.UserID, reader)
				return
			}
			wantError(t, res, http.StatusConflict, "P005")
			before.unchanged(t, st, p.ProductID)
		})
	}

	t.Run("twice", func(t *testing.T) {
		t.Parallel()
		p := list(t, st, token)
		checkCancelled(t, st, st.Do(t, "PATCH", path(p.ProductID), nil, token), p.ProductID, seller.UserID, reader)
		before := capture(t, st, p.ProductID)
		wantError(t, st.Do(t, "PATCH", path(p.ProductID), nil, token), http.StatusConflict, "P005")
		before.unchanged(t, st, p.ProductID)
	})

	t.Run("deleted", func(t *testing.T) {
		t.Parallel()
		p := list(t, st, token)
		if res := st.Do(t, "DELETE", "/api/v1/products/"+p.ProductID.String(), nil, token); res.Status != http.StatusOK {
			t.Fatalf("delete: status %d: %s", res.Status, res.Body)
		}
		before := capture(t, st, p.ProductID)
		wantError(t, st.Do(t, "PATCH", path(p.ProductID), nil, token), http.StatusNotFound, "P001")
		before.unchanged(t, st, p.ProductID)
	})

	// A cancelled deal no longer changes: neither information nor schedule.
	t.Run("no change after cancel", func(t *testing.T) {
		t.Parallel()
		p := list(t, st, token)
		checkCancelled(t, st, st.Do(t, "PATCH", path(p.ProductID), nil, token), p.ProductID, seller.UserID, reader)
		before := capture(t, st, p.ProductID)
		wantError(t, st.Do(t, "PATCH", "/api/v1/products/"+p.ProductID.String(), map[string]any{"price": 5}, token), http.StatusConflict, "P005")
		start := time.Now().Add(3 * time.Hour)
		wantError(t, st.Do(t, "PATCH", "/api/v1/products/"+p.ProductID.String()+"/schedule",
			map[string]any{"startTime": rfc(start), "endTime": rfc(start.Add(time.Hour))}, token), http.StatusConflict, "P005")
		before.unchanged(t, st, p.ProductID)
	})
}
