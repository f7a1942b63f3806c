package apply_test

import (
	"context"
	"net/http"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/devstack/stacktest"
	"github.com/8949market/market/shared/reservations"
	rt "github.com/8949market/market/shared/reservations/reservationtest"
)

// openDeal opens a reservation whose window is [start, end) relative to the database
// clock, sold by a fresh seller, and returns its id and the seller's token.
func openDeal(t *testing.T, st *stacktest.Stack, start, end time.Duration) (uuid.UUID, string) {
	t.Helper()
	deal := rt.Open(t, st, start, end)
	return deal.ID, deal.Seller.Token
}

func wantCode(t *testing.T, res stacktest.Response, status int, code string) {
	t.Helper()
	res.Refused(t, status, code)
}

func countApplications(t *testing.T, st *stacktest.Stack, id uuid.UUID) int {
	t.Helper()
	return len(rt.Applications(t, st, id))
}

// The window is checked against the clock on every apply, whatever any scheduler did:
// refused before the start, accepted from the start, refused from the end.
func TestApplyWindow(t *testing.T) {
	t.Parallel()
	st := stacktest.Start(t)
	id, _ := openDeal(t, st, time.Second, time.Hour)
	token, _ := st.Token(t, auth.RoleUser)

	res, _ := rt.Apply(t, st, id, token)
	wantCode(t, res, http.StatusConflict, "R012")
	if n := countApplications(t, st, id); n != 0 {
		t.Fatalf("%d applications after a refused apply", n)
	}

	// The window opens now: the very next request is inside it.
	rt.MoveWindow(t, st, id, 0, time.Hour)
	res, app := rt.Apply(t, st, id, token)
	if res.Status != http.StatusOK || app.Status != "SELECTED" || app.Position != 0 || app.PaymentDeadline == nil {
		t.Fatalf("apply at the start: %d %+v %s", res.Status, app, res.Body)
	}

	// Ended a millisecond ago.
	rt.MoveWindow(t, st, id, -time.Hour, -time.Millisecond)
	late, _ := st.Token(t, auth.RoleUser)
	res, _ = rt.Apply(t, st, id, late)
	wantCode(t, res, http.StatusConflict, "R013")
	if n := countApplications(t, st, id); n != 1 {
		t.Fatalf("%d applications, want only the one inside the window", n)
	}
}

// The storm: 200 applicants at once. Exactly one buyer, 199 queued at places 1..199 with
// no gap or repeat, one row each, and one reservation-applied event.
func TestApplyStorm(t *testing.T) {
	t.Parallel()
	st := stacktest.Start(t)
	id, _ := openDeal(t, st, -time.Second, time.Hour)
	const n = 200
	tokens := make([]string, n)
	users := make([]uuid.UUID, n)
	for i := range tokens {
		var who auth.Identity
		tokens[i], who = st.Token(t, auth.RoleUser)
		users[i] = who.UserID
	}
	start := make(chan struct{})
	results := make([]reservations.Application, n)
	statuses := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			res := stacktest.Do(t, http.DefaultClient, "PATCH", st.URL+"/api/v1/reservations/"+id.String(), nil, tokens[i])
			statuses[i] = res.Status
			if res.Status == http.StatusOK {
				res.Data(t, &results[i])
			}
		})
	}
	close(start)
	wg.Wait()

	var buyer uuid.UUID
	var places []int64
	for i, app := range results {
		if statuses[i] != http.StatusOK {
			t.Fatalf("applicant %d: status %d", i, statuses[i])
		}
		switch app.Status {
		case "SELECTED":
			if buyer != uuid.Nil {
				t.Fatalf("two buyers: %s and %s", buyer, users[i])
			}
			buyer = users[i]
		case "WAITING":
			places = append(places, app.Position)
		default:
			t.Fatalf("applicant %d: status %q", i, app.Status)
		}
	}
	if buyer == uuid.Nil {
		t.Fatal("no buyer")
	}
	sort.Slice(places, func(i, j int) bool { return places[i] < places[j] })
	for i, p := range places {
		if p != int64(i+1) {
			t.Fatalf("waiting places %v..., want 1..%d without gaps or repeats", places[:min(len(places), i+3)], n-1)
		}
	}

	ctx := context.Background()
	var rows, selected, minPos, maxPos int
	var stored uuid.UUID
	var status string
	err := st.Kit.DB.QueryRow(ctx, `
		SELECT count(*), count(*) FILTER (WHERE a.status = 'SELECTED'), min(position), max(position), r.buyer_id, r.status
		  FROM reservations.applications a JOIN reservations.reservations r ON r.id = a.reservation_id
		 WHERE a.reservation_id = $1 GROUP BY r.buyer_id, r.status`, id).Scan(&rows, &selected, &minPos, &maxPos, &stored, &status)
	if err != nil {
		t.Fatal(err)
	}
	if rows != n || selected != 1 || minPos != 1 || maxPos != n || stored != buyer || status != "PENDING" {
		t.Fatalf("rows %d, selected %d, positions %d..%d, buyer %s (answered %s), status %s", rows, selected, minPos, maxPos, stored, buyer, status)
	}
	var events int
	if err := st.Kit.DB.QueryRow(ctx, `SELECT count(*) FROM messaging.outbox WHERE topic = $1 AND aggregate_id = $2`,
		"reservation-applied", id.String()).Scan(&events); err != nil {
		t.Fatal(err)
	}
	if events != 1 {
		t.Fatalf("%d reservation-applied events, want 1", events)
	}
}

// One user pressing twenty times at once gets one application.
func TestApplySameUserConcurrently(t *testing.T) {
	t.Parallel()
	st := stacktest.Start(t)
	id, _ := openDeal(t, st, -time.Second, time.Hour)
	token, _ := st.Token(t, auth.RoleUser)
	start := make(chan struct{})
	statuses := make([]int, 20)
	codes := make([]string, 20)
	var wg sync.WaitGroup
	for i := range statuses {
		wg.Go(func() {
			<-start
			res := stacktest.Do(t, http.DefaultClient, "PATCH", st.URL+"/api/v1/reservations/"+id.String(), nil, token)
			statuses[i] = res.Status
			if res.Status != http.StatusOK {
				codes[i] = res.Error(t).Code
			}
		})
	}
	close(start)
	wg.Wait()
	ok := 0
	for i, s := range statuses {
		switch {
		case s == http.StatusOK:
			ok++
		case s != http.StatusConflict || codes[i] != "R008":
			t.Fatalf("attempt %d: %d %s", i, s, codes[i])
		}
	}
	if ok != 1 || countApplications(t, st, id) != 1 {
		t.Fatalf("%d accepted, %d rows; want 1 and 1", ok, countApplications(t, st, id))
	}
}

func TestApplyRefusals(t *testing.T) {
	t.Parallel()
	st := stacktest.Start(t)
	id, sellerToken := openDeal(t, st, -time.Second, time.Hour)
	stranger, _ := st.Token(t, auth.RoleUser)

	t.Run("seller", func(t *testing.T) {
		res, _ := rt.Apply(t, st, id, sellerToken)
		wantCode(t, res, http.StatusForbidden, "R014")
	})
	t.Run("unknown reservation", func(t *testing.T) {
		res, _ := rt.Apply(t, st, uuid.New(), stranger)
		wantCode(t, res, http.StatusNotFound, "R006")
	})
	t.Run("malformed id", func(t *testing.T) {
		res := st.Do(t, "PATCH", "/api/v1/reservations/not-a-uuid", nil, stranger)
		wantCode(t, res, http.StatusBadRequest, "C015")
	})
	t.Run("no token", func(t *testing.T) {
		res := st.Do(t, "PATCH", "/api/v1/reservations/"+id.String(), nil, "")
		wantCode(t, res, http.StatusUnauthorized, "C002")
	})
	if n := countApplications(t, st, id); n != 0 {
		t.Fatalf("%d applications after refusals", n)
	}
}

// Redis forgetting a queue (restart, eviction) costs nothing: the state is rebuilt from
// Postgres, places continue, and nobody applies twice.
func TestApplyAfterRedisLosesQueue(t *testing.T) {
	t.Parallel()
	st := stacktest.Start(t)
	id, _ := openDeal(t, st, -time.Second, time.Hour)
	first, _ := st.Token(t, auth.RoleUser)
	for range 3 {
		token, _ := st.Token(t, auth.RoleUser)
		if res, _ := rt.Apply(t, st, id, token); res.Status != http.StatusOK {
			t.Fatalf("apply: %d %s", res.Status, res.Body)
		}
	}
	if res, _ := rt.Apply(t, st, id, first); res.Status != http.StatusOK {
		t.Fatalf("apply: %d %s", res.Status, res.Body)
	}
	rt.Forget(t, st, id)
	res, _ := rt.Apply(t, st, id, first)
	wantCode(t, res, http.StatusConflict, "R008")
	next, _ := st.Token(t, auth.RoleUser)
	res, app := rt.Apply(t, st, id, next)
	if res.Status != http.StatusOK || app.Status != "WAITING" || app.Position != 4 {
		t.Fatalf("after the rebuild: %d %+v, want WAITING at place 4", res.Status, app)
	}
}

// A product listed through the API opens for applications at its startTime to the
// millisecond with no scheduler running (the test stacks run no products-tick): applies
// sent in a tight loop across the start are refused while sent before it and accepted
// once the start has passed.
func TestApplyOpensAtProductStart(t *testing.T) {
	t.Parallel()
	st := stacktest.Start(t)
	sellerToken, _ := st.Token(t, auth.RoleUser)
	startAt := time.Now().Add(1500 * time.Millisecond).UTC().Truncate(time.Millisecond)
	res := st.Do(t, "POST", "/api/v1/products", map[string]any{
		"name": "Lamp", "price": 5000,
		"startTime": startAt.Format(time.RFC3339Nano), "endTime": startAt.Add(time.Hour).Format(time.RFC3339Nano),
	}, sellerToken)
	if res.Status != http.StatusCreated {
		t.Fatalf("create: %d %s", res.Status, res.Body)
	}
	var product struct {
		ProductID uuid.UUID `json:"productId"`
	}
	res.Data(t, &product)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := st.Settle(ctx); err != nil {
		t.Fatal(err)
	}
	var id uuid.UUID
	if err := st.Kit.DB.QueryRow(ctx, `SELECT id FROM reservations.reservations WHERE product_id = $1`, product.ProductID).Scan(&id); err != nil {
		t.Fatalf("the reservation was not opened from product-created: %v", err)
	}

	token, _ := st.Token(t, auth.RoleUser)
	refused := 0
	for {
		sent := time.Now()
		res, app := rt.Apply(t, st, id, token)
		if res.Status == http.StatusOK {
			if got := time.Now(); got.Before(startAt) {
				t.Fatalf("accepted at %v, before the start %v", got, startAt)
			}
			if app.Status != "SELECTED" {
				t.Fatalf("first applicant: %+v", app)
			}
			break
		}
		wantCode(t, res, http.StatusConflict, "R012")
		if !sent.Before(startAt) {
			t.Fatalf("refused a request sent at %v, after the start %v", sent, startAt)
		}
		refused++
		if time.Now().After(startAt.Add(5 * time.Second)) {
			t.Fatal("never accepted")
		}
	}
	if refused == 0 {
		t.Fatal("no request was refused before the start: the test did not straddle it")
	}
}
