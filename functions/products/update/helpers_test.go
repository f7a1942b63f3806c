package update_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/8949market/market/shared/api"
	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/devstack/stacktest"
	"github.com/8949market/market/shared/products"
)

// list creates a product through POST /api/v1/products as the holder of token: opening
// in an hour, for an hour. Tests move its window or status with SQL afterwards.
func list(t *testing.T, st *stacktest.Stack, token string) products.View {
	t.Helper()
	start := time.Now().Add(time.Hour).UTC()
	res := st.Do(t, "POST", "/api/v1/products", map[string]any{
		"name": "Film camera", "description": "Works, with strap", "price": 120000,
		"startTime": start.Format(time.RFC3339Nano), "endTime": start.Add(time.Hour).Format(time.RFC3339Nano),
	}, token)
	if res.Status != http.StatusCreated {
		t.Fatalf("create product: status %d: %s", res.Status, res.Body)
	}
	var v products.View
	res.Data(t, &v)
	return v
}

func exec(t *testing.T, st *stacktest.Stack, sql string, args ...any) {
	t.Helper()
	if _, err := st.Kit.DB.Exec(context.Background(), sql, args...); err != nil {
		t.Fatalf("exec %q: %v", sql, err)
	}
}

// setWindow moves the stored window, as the clock would have moved relative to it (the
// table's CHECK wants end ≥ start + 15 minutes).
func setWindow(t *testing.T, st *stacktest.Stack, id uuid.UUID, start, end time.Time) {
	t.Helper()
	exec(t, st, `UPDATE products.products SET start_time = $2, end_time = $3 WHERE id = $1`, id, start, end)
}

// setStatus writes the stored status, as other domains' events or the tick would have.
func setStatus(t *testing.T, st *stacktest.Stack, id uuid.UUID, status products.Status) {
	t.Helper()
	exec(t, st, `UPDATE products.products SET status = $2 WHERE id = $1`, id, string(status))
}

// state is what a refused request must leave untouched: the product's row and the number
// of outbox rows about it.
type state struct {
	row    string
	events int
}

func capture(t *testing.T, st *stacktest.Stack, id uuid.UUID) state {
	t.Helper()
	var s state
	err := st.Kit.DB.QueryRow(context.Background(), `
		SELECT coalesce((SELECT to_jsonb(p)::text FROM products.products p WHERE id = $1), ''),
		       (SELECT count(*) FROM messaging.outbox WHERE aggregate_id = $2)`, id, id.String()).Scan(&s.row, &s.events)
	if err != nil {
		t.Fatalf("capture %s: %v", id, err)
	}
	return s
}

func (s state) unchanged(t *testing.T, st *stacktest.Stack, id uuid.UUID) {
	t.Helper()
	now := capture(t, st, id)
	if now.row != s.row {
		t.Errorf("product row changed by a refused request:\nbefore %s\nafter  %s", s.row, now.row)
	}
	if now.events != s.events {
		t.Errorf("outbox rows for the product: %d before, %d after a refused request", s.events, now.events)
	}
}

// outboxEvents returns the payloads of the product's outbox rows on topic, oldest first.
func outboxEvents[T any](t *testing.T, st *stacktest.Stack, id uuid.UUID, topic string) []T {
	t.Helper()
	rows, err := st.Kit.DB.Query(context.Background(), `
		SELECT payload FROM messaging.outbox WHERE aggregate_id = $1 AND topic = $2 ORDER BY seq`, id.String(), topic)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		var raw []byte
		if err := rows.Scan(&raw); err != nil {
			t.Fatal(err)
		}
		var v T
		if err := json.Unmarshal(raw, &v); err != nil {
			t.Fatalf("decode %s payload: %v: %s", topic, err, raw)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// wantError asserts an error answer with status and code.
func wantError(t *testing.T, res stacktest.Response, status int, code string) api.ErrorBody {
	t.Helper()
	e := res.Error(t)
	if res.Status != status || e.Code != code {
		t.Fatalf("status %d code %s, want %d %s: %s", res.Status, e.Code, status, code, res.Body)
	}
	return e
}

// spoof is what a client might send to pass as someone else: identity headers that only
// a trusted gateway could set, and which the functions must ignore.
func spoof(who auth.Identity) map[string]string {
	return map[string]string{
		"X-User-Id":       who.UserID.String(),
		"X-User-Role":     string(auth.RoleMaster),
		"X-Username":      who.Username,
		"X-User-Nickname": who.Nickname,
	}
}

// doWith is stacktest's Do with extra request headers.
func doWith(t *testing.T, st *stacktest.Stack, method, path string, body any, token string, headers map[string]string) stacktest.Response {
	t.Helper()
	var rd io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, st.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	client := &http.Client{Timeout: 30 * time.Second}
	res, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return stacktest.Response{Status: res.StatusCode, Header: res.Header, Body: raw}
}
