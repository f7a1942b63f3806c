// Package producttest lists, moves and reads products for end-to-end tests of the
// products functions, on a stack started with stacktest: products are listed through the
// API and then put in any stored state or window with SQL, as the clock, the tick or the
// other domains' events would have left them; events reach the consumer functions as the
// push bridge delivers them; and what is stored (the row, the outbox, the inbox) is read
// from the stack's database. It also holds the checks that every change and every
// consumer of the domain must pass, and the oracle the search is checked against.
//
//	st := stacktest.Start(t)
//	token, _ := st.Token(t, auth.RoleUser)
//	p := producttest.OnSale(t, st, token, products.Reserving, time.Minute, time.Hour)
//	before := producttest.Capture(t, st, p.ProductID)
//	res := producttest.DoWith(t, st, "PATCH", "/api/v1/products/"+p.ProductID.String(), body, token, producttest.Spoof(who))
//	res.Refused(t, http.StatusForbidden, "P009")
//	before.Unchanged(t, st, p.ProductID)
package producttest

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/devstack/stacktest"
	"github.com/8949market/market/shared/products"
)

// Timestamp formats t as the API takes and gives times: RFC 3339 in UTC, to the
// nanosecond.
func Timestamp(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// List creates a product through POST /api/v1/products as the holder of token: a film
// camera, opening in an hour, for an hour. Tests move its window or status with SQL
// afterwards.
func List(t testing.TB, st *stacktest.Stack, token string) products.View {
	t.Helper()
	start := time.Now().Add(time.Hour)
	res := st.Do(t, "POST", "/api/v1/products", map[string]any{
		"name": "Film camera", "description": "Works, with strap", "price": 120000,
		"startTime": Timestamp(start), "endTime": Timestamp(start.Add(time.Hour)),
	}, token)
	if res.Status != http.StatusCreated {
		t.Fatalf("producttest: create product: status %d: %s", res.Status, res.Body)
	}
	var v products.View
	res.Data(t, &v)
	return v
}

// OnSale lists a product and puts it in the stored status with its window opened `opened`
// ago and closing `closes` from now (negative: already closed), as the other domains'
// events and the clock would have left it. A window shorter than products.MinWindow opens
// earlier, so that the table's CHECK holds.
func OnSale(t testing.TB, st *stacktest.Stack, token string, status products.Status, opened, closes time.Duration) products.View {
	t.Helper()
	p := List(t, st, token)
	now := time.Now()
	start, end := now.Add(-opened), now.Add(closes)
	if end.Sub(start) < products.MinWindow {
		start = end.Add(-products.MinWindow)
	}
	Exec(t, st, `UPDATE products.products SET status = $2, start_time = $3, end_time = $4 WHERE id = $1`,
		p.ProductID, string(status), start, end)
	return p
}

// Exec runs one SQL statement on the stack's database.
func Exec(t testing.TB, st *stacktest.Stack, sql string, args ...any) {
	t.Helper()
	if _, err := st.Kit.DB.Exec(context.Background(), sql, args...); err != nil {
		t.Fatalf("producttest: exec %q: %v", sql, err)
	}
}

// SetWindow moves the stored window, as the clock would have moved relative to it (the
// table's CHECK wants end ≥ start + 15 minutes).
func SetWindow(t testing.TB, st *stacktest.Stack, id uuid.UUID, start, end time.Time) {
	t.Helper()
	Exec(t, st, `UPDATE products.products SET start_time = $2, end_time = $3 WHERE id = $1`, id, start, end)
}

// SetStatus writes the stored status, as other domains' events or the tick would have.
func SetStatus(t testing.TB, st *stacktest.Stack, id uuid.UUID, status products.Status) {
	t.Helper()
	Exec(t, st, `UPDATE products.products SET status = $2 WHERE id = $1`, id, string(status))
}

// Hold records a new buyer of the product's reservation at version, as
// reservation-applied would have, and returns the buyer.
func Hold(t testing.TB, st *stacktest.Stack, id uuid.UUID, version int64) uuid.UUID {
	t.Helper()
	buyer := uuid.New()
	Exec(t, st, `UPDATE products.products SET buyer_id = $2, reservation_version = $3 WHERE id = $1`, id, buyer, version)
	return buyer
}

// Get reads the product through GET /api/v1/products/{id} as the holder of token,
// failing the test unless the answer is a success.
func Get(t testing.TB, st *stacktest.Stack, token string, id uuid.UUID) products.View {
	t.Helper()
	var v products.View
	st.Do(t, "GET", "/api/v1/products/"+id.String(), nil, token).Data(t, &v)
	return v
}

// Remove deletes the product through DELETE /api/v1/products/{id} as the holder of token,
// failing the test unless it succeeds.
func Remove(t testing.TB, st *stacktest.Stack, token string, id uuid.UUID) {
	t.Helper()
	if res := st.Do(t, "DELETE", "/api/v1/products/"+id.String(), nil, token); res.Status != http.StatusOK {
		t.Fatalf("producttest: delete: status %d: %s", res.Status, res.Body)
	}
}

// State is what a refused request must leave untouched: the product's row, the number
// of outbox rows about it, and its photos.
type State struct {
	row    string
	events int
	photos string
}

// Capture reads the product's State.
func Capture(t testing.TB, st *stacktest.Stack, id uuid.UUID) State {
	t.Helper()
	var s State
	err := st.Kit.DB.QueryRow(context.Background(), `
		SELECT coalesce((SELECT to_jsonb(p)::text FROM products.products p WHERE id = $1), ''),
		       (SELECT count(*) FROM messaging.outbox WHERE aggregate_id = $2),
		       coalesce((SELECT jsonb_agg(to_jsonb(ph) ORDER BY ph.id)::text FROM products.photos ph WHERE product_id = $1), '')`,
		id, id.String()).Scan(&s.row, &s.events, &s.photos)
	if err != nil {
		t.Fatalf("producttest: capture %s: %v", id, err)
	}
	return s
}

// Unchanged fails the test unless the product's row and its outbox rows are as they were
// when s was captured.
func (s State) Unchanged(t testing.TB, st *stacktest.Stack, id uuid.UUID) {
	t.Helper()
	now := Capture(t, st, id)
	if now.row != s.row {
		t.Errorf("producttest: product row changed by a refused request:\nbefore %s\nafter  %s", s.row, now.row)
	}
	if now.events != s.events {
		t.Errorf("producttest: outbox rows for the product: %d before, %d after a refused request", s.events, now.events)
	}
	if now.photos != s.photos {
		t.Errorf("producttest: photos changed by a refused request:\nbefore %s\nafter  %s", s.photos, now.photos)
	}
}

// Snapshot is the product's whole row as JSON, to assert that something changed nothing.
func Snapshot(t testing.TB, st *stacktest.Stack, id uuid.UUID) string {
	t.Helper()
	var s string
	if err := st.Kit.DB.QueryRow(context.Background(),
		`SELECT to_jsonb(p)::text FROM products.products p WHERE id = $1`, id).Scan(&s); err != nil {
		t.Fatalf("producttest: snapshot %s: %v", id, err)
	}
	return s
}

// Row is the product as stored, the columns the consumers write.
type Row struct {
	Status        string
	BuyerID       *uuid.UUID
	Version       int64
	FailureReason *string
	FailedAt      *time.Time
}

// Read returns the product's Row.
func Read(t testing.TB, st *stacktest.Stack, id uuid.UUID) Row {
	t.Helper()
	var r Row
	if err := st.Kit.DB.QueryRow(context.Background(), `
		SELECT status, buyer_id, reservation_version, failure_reason, failed_at
		  FROM products.products WHERE id = $1`, id).Scan(&r.Status, &r.BuyerID, &r.Version, &r.FailureReason, &r.FailedAt); err != nil {
		t.Fatalf("producttest: read product %s: %v", id, err)
	}
	return r
}

// Restore writes back the consumer-written columns of r, to see whether a redelivery
// would apply an event a second time.
func Restore(t testing.TB, st *stacktest.Stack, id uuid.UUID, r Row) {
	t.Helper()
	Exec(t, st, `
		UPDATE products.products
		   SET status = $2, buyer_id = $3, reservation_version = $4, failure_reason = $5, failed_at = $6
		 WHERE id = $1`, id, r.Status, r.BuyerID, r.Version, r.FailureReason, r.FailedAt)
}

// Spoof is what a client might send to pass as someone else: identity headers that only
// a trusted gateway could set, and which the functions must ignore.
func Spoof(who auth.Identity) map[string]string {
	return map[string]string{
		"X-User-Id":       who.UserID.String(),
		"X-User-Role":     string(auth.RoleMaster),
		"X-Username":      who.Username,
		"X-User-Nickname": who.Nickname,
	}
}

// DoWith is stacktest's Do with extra request headers, set last (so they win over the
// ones Do sets).
func DoWith(t testing.TB, st *stacktest.Stack, method, path string, body any, token string, headers map[string]string) stacktest.Response {
	t.Helper()
	client := &http.Client{Timeout: 30 * time.Second, Transport: withHeaders(headers)}
	return stacktest.Do(t, client, method, st.URL+path, body, token)
}

// withHeaders sets its headers on every request it sends.
type withHeaders map[string]string

func (h withHeaders) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	for k, v := range h {
		req.Header.Set(k, v)
	}
	return http.DefaultTransport.RoundTrip(req)
}
