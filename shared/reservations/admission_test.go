package reservations

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/8949market/market/shared/testenv"
)

// crashAdmit admits who as a process does right before it dies: Redis gives the place,
// no row is ever written.
func crashAdmit(t *testing.T, q *Queue, id, who uuid.UUID) {
	t.Helper()
	res, err := admit.Run(context.Background(), q.rdb, admissionKeys(id), who.String()).Int64Slice()
	if err != nil || res[0] != 1 {
		t.Fatalf("admit %s: %v %v", who, res, err)
	}
}

// readPlace is the place a read shows user: 1 + the waiting rows ahead of theirs.
func readPlace(t *testing.T, db *pgxpool.Pool, id, user uuid.UUID) int64 {
	t.Helper()
	var place int64
	err := db.QueryRow(context.Background(), `
		SELECT count(*) + 1 FROM reservations.applications a, reservations.applications me
		 WHERE me.reservation_id = $1 AND me.user_id = $2 AND a.reservation_id = $1
		   AND a.status = 'WAITING' AND a.position < me.position`, id, user).Scan(&place)
	if err != nil {
		t.Fatal(err)
	}
	return place
}

func mustApply(t *testing.T, q *Queue, id, who uuid.UUID) Application {
	t.Helper()
	app, err := q.Apply(context.Background(), id, Applicant{UserID: who, Nickname: "n"})
	if err != nil {
		t.Fatalf("apply %s: %v", who, err)
	}
	return app
}

// A process that dies between the Redis admission and the Postgres insert leaves its
// applicants admitted without a row. While the admission may still be confirming, a
// second apply is refused; once it is older than the lease, the applicant applies again
// and gets a row, and every place an apply answers from then on is the place a read shows.
func TestDeadAdmissionsAreRepaired(t *testing.T) {
	t.Parallel()
	db := testenv.DB(t)
	q := NewQueue(db, testenv.Redis(t), 0)
	id := reservation(t, db, uuid.New(), -time.Hour, time.Hour, "AVAILABLE")

	buyer := uuid.New()
	if app := mustApply(t, q, id, buyer); app.Status != "SELECTED" {
		t.Fatalf("first applicant: %+v", app)
	}
	early := uuid.New()
	mustApply(t, q, id, early)
	dead := []uuid.UUID{uuid.New(), uuid.New(), uuid.New()}
	for _, u := range dead {
		crashAdmit(t, q, id, u)
	}

	// Still inside the lease: the admission may be a request that is confirming.
	if _, err := q.Apply(context.Background(), id, Applicant{UserID: dead[0], Nickname: "n"}); !errors.Is(err, ErrAlreadyApplied) {
		t.Fatalf("apply again inside the lease: %v, want R008", err)
	}
	// Before any repair, Redis counts the dead admissions into the queue.
	late := uuid.New()
	if app := mustApply(t, q, id, late); app.Position != 5 {
		t.Fatalf("place counting the dead: %d, want 5 (the flaw being repaired)", app.Position)
	}

	q.lease = 0 // as if the lease had passed: every admission without a row is dead
	again := mustApply(t, q, id, dead[0])
	if again.Status != "WAITING" || again.Position != readPlace(t, db, id, dead[0]) || again.Position != 3 {
		t.Fatalf("the dead applicant applying again: %+v, read place %d, want 3", again, readPlace(t, db, id, dead[0]))
	}
	// Its apply reconciled the whole queue: the two other dead admissions are gone, so
	// they may apply too, and newcomers are told their true place.
	for i, u := range append(dead[1:], uuid.New()) {
		app := mustApply(t, q, id, u)
		if want := int64(4 + i); app.Position != want || readPlace(t, db, id, u) != want {
			t.Fatalf("applicant %d after the repair: answered %d, read %d, want %d", i, app.Position, readPlace(t, db, id, u), want)
		}
	}
	var rows int
	if err := db.QueryRow(context.Background(), `SELECT count(*) FROM reservations.applications WHERE reservation_id = $1`, id).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if rows != 7 {
		t.Fatalf("%d rows, want 7 (buyer, early, late, the three dead, one newcomer)", rows)
	}
}

// Reconciling keeps admissions still in flight: they keep their entry and their count,
// and the buyer's place stays taken while one of them may hold it.
func TestReconcileKeepsAdmissionsInFlight(t *testing.T) {
	t.Parallel()
	db := testenv.DB(t)
	q := NewQueue(db, testenv.Redis(t), 0)
	id := reservation(t, db, uuid.New(), -time.Hour, time.Hour, "AVAILABLE")
	ctx := context.Background()

	if err := q.seed(ctx, id); err != nil {
		t.Fatal(err)
	}
	flying := uuid.New()
	crashAdmit(t, q, id, flying) // takes the buyer's place, row not yet written
	waiting := uuid.New()
	crashAdmit(t, q, id, waiting) // counted into the queue, row not yet written

	if fixed, err := q.Reconcile(ctx, id); err != nil || fixed {
		t.Fatalf("reconcile with only admissions in flight: fixed %v, %v; want nothing to fix", fixed, err)
	}
	meta, err := q.rdb.HMGet(ctx, admissionKeys(id)[0], "open", "waiting").Result()
	if err != nil {
		t.Fatal(err)
	}
	if meta[0] != "0" || meta[1] != "1" {
		t.Fatalf("open %v waiting %v, want 0 and 1", meta[0], meta[1])
	}
	// The in-flight requests complete as if nothing happened.
	if err := q.waiting.insert(ctx, id, 2, Applicant{UserID: waiting, Nickname: "n"}); err != nil {
		t.Fatal(err)
	}
	if _, err := q.Apply(ctx, id, Applicant{UserID: waiting, Nickname: "n"}); !errors.Is(err, ErrAlreadyApplied) {
		t.Fatalf("apply again with a row: %v, want R008", err)
	}
}

// The sweep reconciles open deals nobody applies to any more: dead admissions stop
// counting, and a count that drifted is set back to the rows.
func TestSweepReconcilesOpenDeals(t *testing.T) {
	t.Parallel()
	db := testenv.DB(t)
	lc := NewLifecycle(db, testenv.Redis(t), 0)
	q := lc.queue
	id := reservation(t, db, uuid.New(), -time.Hour, time.Hour, "AVAILABLE")
	ctx := context.Background()
	mustApply(t, q, id, uuid.New())
	mustApply(t, q, id, uuid.New())
	crashAdmit(t, q, id, uuid.New())
	if err := q.rdb.HIncrBy(ctx, admissionKeys(id)[0], "waiting", 5).Err(); err != nil {
		t.Fatal(err)
	}
	q.lease = 0 // as if the lease had passed: every admission without a row is dead

	res, err := lc.Sweep(ctx, 500)
	if err != nil {
		t.Fatal(err)
	}
	if res.Reconciled < 1 {
		t.Fatalf("sweep: %+v, want the deal reconciled", res)
	}
	next := uuid.New()
	if app := mustApply(t, q, id, next); app.Position != 2 || readPlace(t, db, id, next) != 2 {
		t.Fatalf("after the sweep: answered %d, read %d, want 2", app.Position, readPlace(t, db, id, next))
	}
}
