package update_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/devstack/stacktest"
	"github.com/8949market/market/shared/events"
	"github.com/8949market/market/shared/events/eventtest"
	"github.com/8949market/market/shared/products"
	"github.com/8949market/market/shared/products/producttest"
)

func path(id uuid.UUID) string { return "/api/v1/products/" + id.String() }

// checkUpdated asserts that the product carries the change in its answer, its row and one
// product-updated event, and that by is recorded as the one who made it.
func checkUpdated(t testing.TB, st *stacktest.Stack, res stacktest.Response, id uuid.UUID, name string, price int64, by uuid.UUID) {
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
	updated := eventtest.Events[events.ProductUpdatedData](t, st.Kit.DB, id, events.ProductUpdated)
	if len(updated) != 1 {
		t.Fatalf("%d product-updated events, want 1", len(updated))
	}
	if e := updated[0]; e.ProductID != id || e.Name != name || e.Price != price ||
		!e.StartTime.Equal(v.StartTime) || !e.EndTime.Equal(v.EndTime) || e.Status != string(products.PendingReservation) {
		t.Errorf("product-updated = %+v, want the new values of %+v", e, v)
	}
}

// updating is PATCH /api/v1/products/{id} with body, checked by checkUpdated for the
// name and price the body sets.
func updating(st *stacktest.Stack, body map[string]any) producttest.Change {
	return producttest.Change{
		Method: "PATCH", Path: path, Malformed: "/api/v1/products/not-a-uuid",
		Request: func() (any, producttest.Made) {
			return body, func(t testing.TB, res stacktest.Response, p products.View, by uuid.UUID) {
				name, _ := body["name"].(string)
				price, _ := body["price"].(int)
				checkUpdated(t, st, res, p.ProductID, name, int64(price), by)
			}
		},
	}
}

// Only the seller (by id) or an administrator may change a product; identity claimed in
// headers counts for nothing, only the token does.
func TestUpdateOwnerOrAdmin(t *testing.T) {
	t.Parallel()
	st := stacktest.Start(t)
	producttest.OwnerOrAdmin(t, st, producttest.NewParties(t, st), updating(st, map[string]any{"name": "Renamed camera", "price": 99000}))
}

// Bad input is a 4xx with its code, and nothing is written: neither the row (not even the
// valid fields of the same request) nor an event.
func TestUpdateRefusesBadInput(t *testing.T) {
	t.Parallel()
	st := stacktest.Start(t)
	token, _ := st.Token(t, auth.RoleUser)
	// Each case sends its own body.
	producttest.RefusesBadInput(t, st, token, updating(st, nil), []producttest.Bad{
		{Name: "zero price", Body: map[string]any{"price": 0}, Status: 400, Code: "P002", Field: "price"},
		{Name: "negative price", Body: map[string]any{"price": -1}, Status: 400, Code: "P002", Field: "price"},
		{Name: "price too high", Body: map[string]any{"price": products.MaxPrice + 1}, Status: 400, Code: "P002", Field: "price"},
		{Name: "valid name with a bad price", Body: map[string]any{"name": "New name", "price": -5}, Status: 400, Code: "P002", Field: "price"},
		{Name: "blank name", Body: map[string]any{"name": "   "}, Status: 400, Code: "P008", Field: "name"},
		{Name: "empty name", Body: map[string]any{"name": ""}, Status: 400, Code: "P008", Field: "name"},
		{Name: "long name", Body: map[string]any{"name": strings.Repeat("가", 101)}, Status: 400, Code: "P008", Field: "name"},
		{Name: "long description", Body: map[string]any{"description": strings.Repeat("d", 2001)}, Status: 400, Code: "P011", Field: "description"},
		{Name: "unknown field", Body: map[string]any{"name": "x", "sellerId": uuid.NewString()}, Status: 400, Code: "C009", Field: "sellerId"},
		{Name: "status is not writable", Body: map[string]any{"status": "COMPLETED"}, Status: 400, Code: "C009", Field: "status"},
		{Name: "price as string", Body: map[string]any{"price": "1000"}, Status: 400, Code: "C010", Field: "price"},
		{Name: "price as fraction", Body: map[string]any{"price": 10.5}, Status: 400, Code: "C010", Field: "price"},
		{Name: "name as number", Body: map[string]any{"name": 7}, Status: 400, Code: "C010", Field: "name"},
		{Name: "malformed json", Body: `{"name": "x",`, Status: 400, Code: "C008"},
		{Name: "empty body", Body: "", Status: 400, Code: "C008"},
		{Name: "two values", Body: `{"price": 5} {"price": 6}`, Status: 400, Code: "C008"},
		{Name: "array", Body: `[]`, Status: 400, Code: "C010"},
		{Name: "empty object", Body: map[string]any{}, Status: 400, Code: "C001"},
		{Name: "only nulls", Body: `{"name": null, "price": null}`, Status: 400, Code: "C001"},
	})
}

// A successful change writes exactly the fields given (trimmed), and each change announces
// the product's new values with product-updated, in order.
func TestUpdateWritesProductUpdated(t *testing.T) {
	t.Parallel()
	st := stacktest.Start(t)
	token, seller := st.Token(t, auth.RoleUser)
	reader, _ := st.Token(t, auth.RoleUser)
	p := producttest.List(t, st, token)

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
	got := producttest.Get(t, st, reader, p.ProductID)
	if got.Name != "Rangefinder" || got.Description != "Mint, boxed" || got.Price != 150000 || !got.ModifiedAt.Equal(v.ModifiedAt) {
		t.Errorf("GET after update = %+v", got)
	}

	updated := eventtest.Events[events.ProductUpdatedData](t, st.Kit.DB, p.ProductID, events.ProductUpdated)
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
