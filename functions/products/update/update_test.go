package update_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/devstack/stacktest"
	"github.com/8949market/market/shared/events"
	"github.com/8949market/market/shared/products"
)

func path(id uuid.UUID) string { return "/api/v1/products/" + id.String() }

// checkUpdated asserts that the product carries the change in its answer, its row and one
// product-updated event, and that by is recorded as the one who made it.
func checkUpdated(t *testing.T, st *stacktest.Stack, res stacktest.Response, id uuid.UUID, name string, price int64, by uuid.UUID) {
	t.Helper()
	if res.Status != http.StatusOK {
		t.Fatalf("update: status %d: %s", res.Status, res.Body)
	}
	var v products.View
	res.Data(t, &v)
	if v.ProductID != id || v.Name != name || v.Price != price || v.Status != products.PendingReservation {
		t.Errorf("answer = %+v, want name %q price %d", v, name, price)
	}
	var rowName string
	var rowPrice int64
	var modifiedBy uuid.UUID
	if err := st.Kit.DB.QueryRow(context.Background(),
		`SELECT name, price, modified_by FROM products.products WHERE id = $1`, id).Scan(&rowName, &rowPrice, &modifiedBy); err != nil {
		t.Fatal(err)
	}
	if rowName != name || rowPrice != price || modifiedBy != by {
		t.Errorf("row name %q price %d modified_by %s, want %q %d %s", rowName, rowPrice, modifiedBy, name, price, by)
	}
	updated := outboxEvents[events.ProductUpdatedData](t, st, id, events.ProductUpdated)
	if len(updated) != 1 {
		t.Fatalf("%d product-updated events, want 1", len(updated))
	}
	if e := updated[0]; e.ProductID != id || e.Name != name || e.Price != price ||
		!e.StartTime.Equal(v.StartTime) || !e.EndTime.Equal(v.EndTime) || e.Status != string(products.PendingReservation) {
		t.Errorf("product-updated = %+v, want the new values of %+v", e, v)
	}
}

// Only the seller (by id) or an administrator may change a product; identity claimed in
// headers counts for nothing, only the token does.
func TestUpdateOwnerOrAdmin(t *testing.T) {
	t.Parallel()
	st := stacktest.Start(t)
	sellerTok, seller := st.Token(t, auth.RoleUser)
	otherTok, _ := st.Token(t, auth.RoleUser)
	managerTok, manager := st.Token(t, auth.RoleManager)
	masterTok, master := st.Token(t, auth.RoleMaster)
	own := path
	malformed := func(uuid.UUID) string { return "/api/v1/products/not-a-uuid" }
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
			body := map[string]any{"name": "Renamed camera", "price": 99000}
			res := doWith(t, st, "PATCH", tt.path(p.ProductID), body, tt.token, tt.headers)
			if tt.status == http.StatusOK {
				checkUpdated(t, st, res, p.ProductID, "Renamed camera", 99000, tt.by)
				return
			}
			wantError(t, res, tt.status, tt.code)
			before.unchanged(t, st, p.ProductID)
		})
	}
}

// Bad input is a 4xx with its code, and nothing is written: neither the row (not even the
// valid fields of the same request) nor an event.
func TestUpdateRefusesBadInput(t *testing.T) {
	t.Parallel()
	st := stacktest.Start(t)
	token, _ := st.Token(t, auth.RoleUser)

	tests := []struct {
		name   string
		body   any
		status int
		code   string
		field  string
	}{
		{"zero price", map[string]any{"price": 0}, 400, "P002", "price"},
		{"negative price", map[string]any{"price": -1}, 400, "P002", "price"},
		{"price too high", map[string]any{"price": products.MaxPrice + 1}, 400, "P002", "price"},
		{"valid name with a bad price", map[string]any{"name": "New name", "price": -5}, 400, "P002", "price"},
		{"blank name", map[string]any{"name": "   "}, 400, "P008", "name"},
		{"empty name", map[string]any{"name": ""}, 400, "P008", "name"},
		{"long name", map[string]any{"name": strings.Repeat("가", 101)}, 400, "P008", "name"},
		{"long description", map[string]any{"description": strings.Repeat("d", 2001)}, 400, "P011", "description"},
		{"unknown field", map[string]any{"name": "x", "sellerId": uuid.NewString()}, 400, "C009", "sellerId"},
		{"status is not writable", map[string]any{"status": "COMPLETED"}, 400, "C009", "status"},
		{"price as string", map[string]any{"price": "1000"}, 400, "C010", "price"},
		{"price as fraction", map[string]any{"price": 10.5}, 400, "C010", "price"},
		{"name as number", map[string]any{"name": 7}, 400, "C010", "name"},
		{"malformed json", `{"name": "x",`, 400, "C008", ""},
		{"empty body", "", 400, "C008", ""},
		{"two values", `{"price": 5} {"price": 6}`, 400, "C008", ""},
		{"array", `[]`, 400, "C010", ""},
		{"empty object", map[string]any{}, 400, "C001", ""},
		{"only nulls", `{"name": null, "price": null}`, 400, "C001", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := list(t, st, token)
			before := capture(t, st, p.ProductID)
			e := wantError(t, st.Do(t, "PATCH", path(p.ProductID), tt.body, token), tt.status, tt.code)
			if tt.field != "" && (e.Field == nil || *e.Field != tt.field) {
				t.Errorf("field = %v, want %q", e.Field, tt.field)
			}
			before.unchanged(t, st, p.ProductID)
		})
	}
}

// An information change is allowed only while the deal is PENDING_RESERVATION and until a
// minute before it opens; afterwards, or in any other state, it is 409 P005 and nothing is
// written.
func TestUpdateStateRules(t *testing.T) {
	t.Parallel()
	st := stacktest.Start(t)
	token, seller := st.Token(t, auth.RoleUser)

	type setup func(t *testing.T, id uuid.UUID, now time.Time)
	window := func(start, end time.Duration) setup {
		return func(t *testing.T, id uuid.UUID, now time.Time) { setWindow(t, st, id, now.Add(start), now.Add(end)) }
	}
	status := func(s products.Status) setup {
		return func(t *testing.T, id uuid.UUID, _ time.Time) { setStatus(t, st, id, s) }
	}
	tests := []struct {
		name  string
		setup setup
		ok    bool
	}{
		{"pending, opens in an hour", func(*testing.T, uuid.UUID, time.Time) {}, true},
		{"pending, opens in a minute and 10 seconds", window(time.Minute+10*time.Second, time.Hour), true},
		{"pending, opens in 50 seconds (inside the last minute)", window(50*time.Second, time.Hour), false},
		{"pending, opens in a second", window(time.Second, time.Hour), false},
		{"window open, tick not run yet", window(-time.Minute, time.Hour), false},
		{"window closed, tick not run yet", window(-2*time.Hour, -time.Hour), false},
		{"stored RESERVING", status(products.Reserving), false},
		{"stored IN_TRADE", status(products.InTrade), false},
		{"stored COMPLETED", status(products.Completed), false},
		{"stored SALE_CANCELED", status(products.SaleCanceled), false},
		{"stored EXPIRED", status(products.Expired), false},
		{"stored FAILED", status(products.Failed), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := list(t, st, token)
			tt.setup(t, p.ProductID, time.Now())
			before := capture(t, st, p.ProductID)
			res := st.Do(t, "PATCH", path(p.ProductID), map[string]any{"name": "Too late?", "price": 777}, token)
			if tt.ok {
				checkUpdated(t, st, res, p.ProductID, "Too late?", 777, seller.UserID)
				return
			}
			wantError(t, res, http.StatusConflict, "P005")
			before.unchanged(t, st, p.ProductID)
		})
	}

	t.Run("deleted", func(t *testing.T) {
		t.Parallel()
		p := list(t, st, token)
		if res := st.Do(t, "DELETE", path(p.ProductID), nil, token); res.Status != http.StatusOK {
			t.Fatalf("delete: status %d: %s", res.Status, res.Body)
		}
		before := capture(t, st, p.ProductID)
		wantError(t, st.Do(t, "PATCH", path(p.ProductID), map[string]any{"price": 5}, token), 404, "P001")
		before.unchanged(t, st, p.ProductID)
	})
}

// A successful change writes exactly the fields given (trimmed), and each change announces
// the product's new values with product-updated, in order.
func TestUpdateWritesProductUpdated(t *testing.T) {
	t.Parallel()
	st := stacktest.Start(t)
	token, seller := st.Token(t, auth.RoleUser)
	reader, _ := st.Token(t, auth.RoleUser)
	p := list(t, st, token)

	res := st.Do(t, "PATCH", path(p.ProductID), map[string]any{"price": 150000}, token)
	var v products.View
	res.Data(t, &v)
	if v.Price != 150000 || v.Name != p.Name || v.Description != p.Description {
		t.Fatalf("after a price change: %+v", v)
	}
	res = st.Do(t, "PATCH", path(p.ProductID), map[string]any{"name": "  Rangefinder  ", "description": "  Mint, boxed "}, token)
	res.Data(t, &v)
	if v.Name != "Rangefinder" || v.Description != "Mint, boxed" || v.Price != 150000 {
		t.Fatalf("after a name change: %+v", v)
	}
	if !v.ModifiedAt.After(p.ModifiedAt) || !v.CreatedAt.Equal(p.CreatedAt) || v.SellerID != seller.UserID {
		t.Errorf("timestamps or seller: before %+v after %+v", p, v)
	}

	// Anyone reads the same values back.
	var got products.View
	st.Do(t, "GET", path(p.ProductID), nil, reader).Data(t, &got)
	if got.Name != "Rangefinder" || got.Description != "Mint, boxed" || got.Price != 150000 || !got.ModifiedAt.Equal(v.ModifiedAt) {
		t.Errorf("GET after update = %+v", got)
	}

	updated := outboxEvents[events.ProductUpdatedData](t, st, p.ProductID, events.ProductUpdated)
	if len(updated) != 2 {
		t.Fatalf("%d product-updated events, want 2", len(updated))
	}
	if e := updated[0]; e.Name != p.Name || e.Price != 150000 {
		t.Errorf("first product-updated = %+v", e)
	}
	if e := updated[1]; e.ProductID != p.ProductID || e.Name != "Rangefinder" || e.Price != 150000 ||
		!e.StartTime.Equal(p.StartTime) || !e.EndTime.Equal(p.EndTime) || e.Status != string(products.PendingReservation) {
		t.Errorf("second product-updated = %+v", e)
	}
}
