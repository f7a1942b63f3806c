package create_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/devstack/stacktest"
	"github.com/8949market/market/shared/products"
	"github.com/8949market/market/shared/products/producttest"
)

func validBody() map[string]any {
	start := time.Now().Add(time.Hour).UTC()
	return map[string]any{
		"name":        "Vintage camera",
		"description": "Works, with strap",
		"price":       120000,
		"startTime":   start.Format(time.RFC3339Nano),
		"endTime":     start.Add(30 * time.Minute).Format(time.RFC3339Nano),
	}
}

func with(changes map[string]any) map[string]any {
	b := validBody()
	for k, v := range changes {
		if v == nil {
			delete(b, k)
		} else {
			b[k] = v
		}
	}
	return b
}

func countProducts(t *testing.T, st *stacktest.Stack) int {
	t.Helper()
	var n int
	if err := st.Kit.DB.QueryRow(context.Background(), `SELECT count(*) FROM products.products`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestCreateThenGet(t *testing.T) {
	t.Parallel()
	st := stacktest.Start(t)
	token, seller := st.Token(t, auth.RoleUser)

	res := st.Do(t, "POST", "/api/v1/products", validBody(), token)
	if res.Status != 201 {
		t.Fatalf("create: status %d: %s", res.Status, res.Body)
	}
	var created products.View
	res.Data(t, &created)
	if created.SellerID != seller.UserID || created.SellerNickname != seller.Nickname ||
		created.Status != products.PendingReservation || created.Price != 120000 || created.Name != "Vintage camera" {
		t.Fatalf("created = %+v", created)
	}

	// The row is there, owned by the caller from the token (never from the body).
	var sellerID uuid.UUID
	var start time.Time
	if err := st.Kit.DB.QueryRow(context.Background(),
		`SELECT seller_id, start_time FROM products.products WHERE id = $1`, created.ProductID).Scan(&sellerID, &start); err != nil {
		t.Fatal(err)
	}
	if sellerID != seller.UserID || !start.Equal(created.StartTime) {
		t.Errorf("row seller %s start %s", sellerID, start)
	}

	// Anyone signed in reads it back through its own route.
	other, _ := st.Token(t, auth.RoleUser)
	read := producttest.Get(t, st, other, created.ProductID)
	if read.ProductID != created.ProductID || !read.StartTime.Equal(created.StartTime) || read.Status != products.PendingReservation {
		t.Errorf("read = %+v", read)
	}
}

func TestCreateRefusesBadInput(t *testing.T) {
	t.Parallel()
	st := stacktest.Start(t)
	token, _ := st.Token(t, auth.RoleUser)
	now := time.Now().UTC()

	tests := []struct {
		name   string
		body   any
		token  string
		status int
		code   string
		field  string
	}{
		{"no token", validBody(), "", 401, "C002", ""},
		{"forged token", validBody(), token[:len(token)-4] + "AAAA", 401, "C002", ""},
		{"malformed json", `{"name": "x",`, token, 400, "C008", ""},
		{"empty body", "", token, 400, "C008", ""},
		{"two values", `{} {}`, token, 400, "C008", ""},
		{"unknown field", with(map[string]any{"sellerId": uuid.NewString()}), token, 400, "C009", "sellerId"},
		{"price as string", with(map[string]any{"price": "1000"}), token, 400, "C010", "price"},
		{"price as fraction", with(map[string]any{"price": 10.5}), token, 400, "C010", "price"},
		{"name as number", with(map[string]any{"name": 7}), token, 400, "C010", "name"},
		{"time without zone", with(map[string]any{"startTime": "2030-01-01T10:00:00"}), token, 400, "C010", ""},
		{"oversize", with(map[string]any{"description": strings.Repeat("x", 2<<20)}), token, 413, "C011", ""},
		{"missing name", with(map[string]any{"name": nil}), token, 400, "P008", "name"},
		{"blank name", with(map[string]any{"name": "   "}), token, 400, "P008", "name"},
		{"long name", with(map[string]any{"name": strings.Repeat("가", 101)}), token, 400, "P008", "name"},
		{"long description", with(map[string]any{"description": strings.Repeat("d", 2001)}), token, 400, "P011", "description"},
		{"missing price", with(map[string]any{"price": nil}), token, 400, "P002", "price"},
		{"zero price", with(map[string]any{"price": 0}), token, 400, "P002", "price"},
		{"negative price", with(map[string]any{"price": -5}), token, 400, "P002", "price"},
		{"price too high", with(map[string]any{"price": int64(products.MaxPrice) + 1}), token, 400, "P002", "price"},
		{"missing start", with(map[string]any{"startTime": nil}), token, 400, "P012", "startTime"},
		{"start in the past", with(map[string]any{"startTime": now.Add(-time.Minute).Format(time.RFC3339)}), token, 400, "P004", "startTime"},
		{"end before start", with(map[string]any{"endTime": now.Add(30 * time.Minute).Format(time.RFC3339)}), token, 400, "P003", "endTime"},
		{"window under 15 minutes", with(map[string]any{
			"startTime": now.Add(time.Hour).Format(time.RFC3339),
			"endTime":   now.Add(time.Hour + 14*time.Minute).Format(time.RFC3339),
		}), token, 400, "P007", "endTime"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res := st.Do(t, "POST", "/api/v1/products", tt.body, tt.token)
			e := res.RefusedOn(t, tt.status, tt.code, tt.field)
			if e.TraceID == "" || e.Timestamp == "" {
				t.Errorf("error body lacks traceId or timestamp: %s", res.Body)
			}
		})
	}
	t.Cleanup(func() {
		if n := countProducts(t, st); n != 0 {
			t.Errorf("%d products written by refused requests", n)
		}
	})
}

func TestGetRefusals(t *testing.T) {
	t.Parallel()
	st := stacktest.Start(t)
	token, _ := st.Token(t, auth.RoleUser)
	tests := []struct {
		name, path, token string
		status            int
		code              string
	}{
		{"not a uuid", "/api/v1/products/not-a-uuid", token, 400, "C015"},
		{"unknown product", "/api/v1/products/" + uuid.NewString(), token, 404, "P001"},
		{"no token", "/api/v1/products/" + uuid.NewString(), "", 401, "C002"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			st.Do(t, "GET", tt.path, nil, tt.token).Refused(t, tt.status, tt.code)
		})
	}
}
