package tick_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/devstack/stacktest"
	"github.com/8949market/market/shared/events"
	"github.com/8949market/market/shared/events/eventtest"
	"github.com/8949market/market/shared/products"
	"github.com/8949market/market/shared/products/producttest"
)

// kind is a group of products seeded straight into the table: the tick reads only the
// table, and thousands of rows go in with one statement.
type kind struct {
	status     products.Status
	start, end time.Duration // relative to now
	buyer      bool          // a buyer holds the reservation
	deleted    bool
}

func seed(t *testing.T, st *stacktest.Stack, n int, k kind) []uuid.UUID {
	t.Helper()
	seller := uuid.New()
	rows, err := st.Kit.DB.Query(context.Background(), `
		INSERT INTO products.products
		  (id, seller_id, seller_nickname, name, description, price, status, start_time, end_time,
		   created_by, modified_by, buyer_id, deleted_at, deleted_by)
		SELECT gen_random_uuid(), $1, 'seller', 'Tick item ' || g, '', 1000 + g, $2,
		       now() + make_interval(secs => $3), now() + make_interval(secs => $4), $1, $1,
		       CASE WHEN $5 THEN gen_random_uuid() END,
		       CASE WHEN $6 THEN now() END, CASE WHEN $6 THEN $1::uuid END
		  FROM generate_series(1, $7::int) g
		RETURNING id`, seller, string(k.status), k.start.Seconds(), k.end.Seconds(), k.buyer, k.deleted, n)
	if err != nil {
		t.Fatalf("seed: %v", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	if err != nil {
		t.Fatalf("seed: %v", err)
	}
	return ids
}

// tick calls products-tick as Cloud Scheduler (or the dev ticker) does. It does not use
// t, so that it can run on goroutines of its own.
func tick(client *http.Client, st *stacktest.Stack) (products.TickResult, error) {
	res, err := client.Post(st.InternalURL("products-tick"), "application/json", bytes.NewReader(nil))
	if err != nil {
		return products.TickResult{}, err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		return products.TickResult{}, err
	}
	var env struct {
		Success bool                `json:"success"`
		Data    products.TickResult `json:"data"`
	}
	if err := json.Unmarshal(raw, &env); err != nil || res.StatusCode != http.StatusOK || !env.Success {
		return products.TickResult{}, fmt.Errorf("tick: status %d: %s", res.StatusCode, raw)
	}
	return env.Data, nil
}

func mustTick(t *testing.T, st *stacktest.Stack) products.TickResult {
	t.Helper()
	r, err := tick(&http.Client{Timeout: 60 * time.Second}, st)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// moved is what the tick did to one product: its stored status and the statuses its
// product-updated events announced, oldest first.
type moved struct {
	status    string
	announced []string
}

func outcome(t *testing.T, st *stacktest.Stack) map[uuid.UUID]moved {
	t.Helper()
	ctx := context.Background()
	out := map[uuid.UUID]moved{}
	rows, err := st.Kit.DB.Query(ctx, `SELECT id, status FROM products.products`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id uuid.UUID
		var s string
		if err := rows.Scan(&id, &s); err != nil {
			t.Fatal(err)
		}
		out[id] = moved{status: s}
	}
	rows.Close()
	for _, r := range eventtest.Outbox(t, st.Kit.DB, "", events.ProductUpdated) {
		var e events.ProductUpdatedData
		r.Decode(t, &e)
		id := uuid.MustParse(r.AggregateID)
		if e.ProductID != id {
			t.Errorf("product-updated for %s carries productId %s", r.AggregateID, e.ProductID)
		}
		m := out[id]
		m.announced = append(m.announced, e.Status)
		out[id] = m
	}
	return out
}

// The tick moves what the clock has overtaken, once: opened deals to RESERVING, closed
// ones with no buyer to EXPIRED, each with one product-updated. Nothing else moves, and
// a second run finds nothing to do.
func TestTickMovesDueProducts(t *testing.T) {
	t.Parallel()
	st := stacktest.Start(t)
	reader, _ := st.Token(t, auth.RoleUser)
	h := time.Hour

	groups := []struct {
		name string
		n    int
		kind kind
		want products.Status // stored status after the tick
		move bool            // one product-updated announcing want
	}{
		{"opened", 5, kind{status: products.PendingReservation, start: -time.Minute, end: h}, products.Reserving, true},
		{"opened, with a buyer past its end", 1, kind{status: products.PendingReservation, start: -2 * h, end: -time.Minute, buyer: true}, products.Reserving, true},
		{"closed, no buyer", 4, kind{status: products.Reserving, start: -2 * h, end: -time.Minute}, products.Expired, true},
		{"not yet open", 3, kind{status: products.PendingReservation, start: h, end: 2 * h}, products.PendingReservation, false},
		{"open, already ticked", 2, kind{status: products.Reserving, start: -time.Minute, end: h}, products.Reserving, false},
		{"closed, a buyer holds it", 2, kind{status: products.Reserving, start: -2 * h, end: -time.Minute, buyer: true}, products.Reserving, false},
		{"in trade past its end", 1, kind{status: products.InTrade, start: -2 * h, end: -time.Minute, buyer: true}, products.InTrade, false},
		{"completed", 1, kind{status: products.Completed, start: -2 * h, end: -time.Minute}, products.Completed, false},
		{"cancelled", 1, kind{status: products.SaleCanceled, start: -2 * h, end: -time.Minute}, products.SaleCanceled, false},
		{"expired", 1, kind{status: products.Expired, start: -2 * h, end: -time.Minute}, products.Expired, false},
		{"failed", 1, kind{status: products.Failed, start: -2 * h, end: -time.Minute}, products.Failed, false},
		{"deleted, due to open", 2, kind{status: products.PendingReservation, start: -time.Minute, end: h, deleted: true}, products.PendingReservation, false},
		{"deleted, due to expire", 2, kind{status: products.Reserving, start: -2 * h, end: -time.Minute, deleted: true}, products.Reserving, false},
	}
	ids := make([][]uuid.UUID, len(groups))
	for i, g := range groups {
		ids[i] = seed(t, st, g.n, g.kind)
	}

	if got, want := mustTick(t, st), (products.TickResult{Opened: 6, Expired: 4}); got != want {
		t.Errorf("first tick = %+v, want %+v", got, want)
	}
	after := outcome(t, st)
	for i, g := range groups {
		for _, id := range ids[i] {
			m := after[id]
			if m.status != string(g.want) {
				t.Errorf("%s: stored status %s, want %s", g.name, m.status, g.want)
			}
			switch {
			case g.move && (len(m.announced) != 1 || m.announced[0] != string(g.want)):
				t.Errorf("%s: product-updated statuses %v, want [%s]", g.name, m.announced, g.want)
			case !g.move && len(m.announced) != 0:
				t.Errorf("%s: product-updated statuses %v, want none", g.name, m.announced)
			}
		}
	}
	// Reads agree with what the tick wrote.
	for i, want := range map[int]products.Status{0: products.Reserving, 2: products.Expired} {
		if v := producttest.Get(t, st, reader, ids[i][0]); v.Status != want {
			t.Errorf("%s: GET status %s, want %s", groups[i].name, v.Status, want)
		}
	}

	if got := mustTick(t, st); got != (products.TickResult{}) {
		t.Errorf("second tick = %+v, want nothing moved", got)
	}
	again := outcome(t, st)
	for id, m := range after {
		if a := again[id]; a.status != m.status || len(a.announced) != len(m.announced) {
			t.Errorf("second tick changed %s: %+v, then %+v", id, m, a)
		}
	}
}

// A deal whose whole window passed before any tick ends EXPIRED, and the last word its
// events say is EXPIRED.
func TestTickWholeWindowMissed(t *testing.T) {
	t.Parallel()
	st := stacktest.Start(t)
	ids := seed(t, st, 3, kind{status: products.PendingReservation, start: -2 * time.Hour, end: -time.Minute})

	if got := mustTick(t, st); got.Expired != 3 {
		t.Errorf("tick = %+v, want 3 expired", got)
	}
	after := outcome(t, st)
	for _, id := range ids {
		m := after[id]
		if m.status != string(products.Expired) || len(m.announced) == 0 || m.announced[len(m.announced)-1] != string(products.Expired) {
			t.Errorf("%s: %+v, want stored EXPIRED and product-updated ending with EXPIRED", id, m)
		}
	}
	if got := mustTick(t, st); got != (products.TickResult{}) {
		t.Errorf("second tick = %+v, want nothing moved", got)
	}
}

// Five ticks released at once (schedulers do overlap) move each of almost two thousand
// due products exactly once, over several batches: the counts add up and each product
// has one product-updated for its move.
func TestTickConcurrentCallsMoveEachOnce(t *testing.T) {
	t.Parallel()
	st := stacktest.Start(t)
	opening := seed(t, st, 1200, kind{status: products.PendingReservation, start: -time.Minute, end: time.Hour})
	closing := seed(t, st, 700, kind{status: products.Reserving, start: -2 * time.Hour, end: -time.Minute})

	const callers = 5
	release := make(chan struct{})
	results := make(chan products.TickResult, callers)
	errs := make(chan error, callers)
	var wg sync.WaitGroup
	for range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			client := &http.Client{Timeout: 60 * time.Second}
			<-release
			r, err := tick(client, st)
			if err != nil {
				errs <- err
				return
			}
			results <- r
		}()
	}
	close(release)
	wg.Wait()
	close(results)
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	var total products.TickResult
	for r := range results {
		t.Logf("one tick moved %+v", r)
		total.Opened += r.Opened
		total.Expired += r.Expired
	}
	if total != (products.TickResult{Opened: len(opening), Expired: len(closing)}) {
		t.Errorf("ticks moved %+v in all, want opened %d expired %d", total, len(opening), len(closing))
	}

	after := outcome(t, st)
	check := func(ids []uuid.UUID, want products.Status) {
		bad := 0
		for _, id := range ids {
			m := after[id]
			if m.status != string(want) || len(m.announced) != 1 || m.announced[0] != string(want) {
				if bad++; bad <= 5 {
					t.Errorf("%s: stored %s, product-updated %v; want %s announced once", id, m.status, m.announced, want)
				}
			}
		}
		if bad > 5 {
			t.Errorf("... %d products in all not moved exactly once to %s", bad, want)
		}
	}
	check(opening, products.Reserving)
	check(closing, products.Expired)
	if got := mustTick(t, st); got != (products.TickResult{}) {
		t.Errorf("tick after the race = %+v, want nothing left", got)
	}
}
