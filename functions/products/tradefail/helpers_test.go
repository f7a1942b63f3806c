package tradefail_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"

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

// onSale lists a product and puts it in the given stored state with its window opened
// `opened` ago and closing `closes` from now (negative: already closed), as the other
// domains' events and the clock would have left it.
func onSale(t *testing.T, st *stacktest.Stack, token string, status products.Status, opened, closes time.Duration) products.View {
	t.Helper()
	p := list(t, st, token)
	now := time.Now()
	start, end := now.Add(-opened), now.Add(closes)
	if end.Sub(start) < products.MinWindow {
		start = end.Add(-products.MinWindow)
	}
	_, err := st.Kit.DB.Exec(context.Background(),
		`UPDATE products.products SET status = $2, start_time = $3, end_time = $4 WHERE id = $1`,
		p.ProductID, string(status), start, end)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// row is the product as stored, the columns the consumers write.
type row struct {
	Status        string
	BuyerID       *uuid.UUID
	Version       int64
	FailureReason *string
	FailedAt      *time.Time
}

func read(t *testing.T, st *stacktest.Stack, id uuid.UUID) row {
	t.Helper()
	var r row
	if err := st.Kit.DB.QueryRow(context.Background(), `
		SELECT status, buyer_id, reservation_version, failure_reason, failed_at
		  FROM products.products WHERE id = $1`, id).Scan(&r.Status, &r.BuyerID, &r.Version, &r.FailureReason, &r.FailedAt); err != nil {
		t.Fatalf("read product %s: %v", id, err)
	}
	return r
}

// snapshot is the whole row as JSON, to assert that an event changed nothing.
func snapshot(t *testing.T, st *stacktest.Stack, id uuid.UUID) string {
	t.Helper()
	var s string
	if err := st.Kit.DB.QueryRow(context.Background(),
		`SELECT to_jsonb(p)::text FROM products.products p WHERE id = $1`, id).Scan(&s); err != nil {
		t.Fatalf("snapshot %s: %v", id, err)
	}
	return s
}

func get(t *testing.T, st *stacktest.Stack, token string, id uuid.UUID) products.View {
	t.Helper()
	var v products.View
	st.Do(t, "GET", "/api/v1/products/"+id.String(), nil, token).Data(t, &v)
	return v
}

// deliver posts data to the consumer function as a binary-mode CloudEvent with id, the
// way the push bridge delivers it, and returns the HTTP status.
func deliver(t *testing.T, st *stacktest.Stack, function, topic, source string, id uuid.UUID, data any) int {
	t.Helper()
	raw, err := json.Marshal(data)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, st.URL+"/internal/functions/"+function, bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("ce-specversion", "1.0")
	req.Header.Set("ce-id", id.String())
	req.Header.Set("ce-type", topic)
	req.Header.Set("ce-source", source)
	req.Header.Set("Content-Type", "application/json")
	res, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("deliver %s: %v", topic, err)
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, res.Body)
	return res.StatusCode
}

// inboxRows counts the consumer's inbox rows for the event.
func inboxRows(t *testing.T, st *stacktest.Stack, consumer string, id uuid.UUID) int {
	t.Helper()
	var n int
	if err := st.Kit.DB.QueryRow(context.Background(),
		`SELECT count(*) FROM messaging.inbox WHERE consumer = $1 AND event_id = $2`, consumer, id).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// restore writes back the consumer-written columns of r, to see whether a redelivery
// would apply the event a second time.
func restore(t *testing.T, st *stacktest.Stack, id uuid.UUID, r row) {
	t.Helper()
	_, err := st.Kit.DB.Exec(context.Background(), `
		UPDATE products.products
		   SET status = $2, buyer_id = $3, reservation_version = $4, failure_reason = $5, failed_at = $6
		 WHERE id = $1`, id, r.Status, r.BuyerID, r.Version, r.FailureReason, r.FailedAt)
	if err != nil {
		t.Fatal(err)
	}
}

// hold records a reservation's buyer at version, as reservation-applied would have.
func hold(t *testing.T, st *stacktest.Stack, id uuid.UUID, version int64) uuid.UUID {
	t.Helper()
	buyer := uuid.New()
	_, err := st.Kit.DB.Exec(context.Background(),
		`UPDATE products.products SET buyer_id = $2, reservation_version = $3 WHERE id = $1`, id, buyer, version)
	if err != nil {
		t.Fatal(err)
	}
	return buyer
}

// remove deletes the product through the API.
func remove(t *testing.T, st *stacktest.Stack, token string, id uuid.UUID) {
	t.Helper()
	if res := st.Do(t, "DELETE", "/api/v1/products/"+id.String(), nil, token); res.Status != http.StatusOK {
		t.Fatalf("delete: status %d: %s", res.Status, res.Body)
	}
}
