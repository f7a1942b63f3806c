package inbox_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/8949market/market/shared/fault"
	"github.com/8949market/market/shared/inbox"
	"github.com/8949market/market/shared/telemetry"
	"github.com/8949market/market/shared/testenv"
)

// setup returns a fresh migrated database with a scratch table for the handlers' effects.
func setup(t *testing.T) *pgxpool.Pool {
	t.Helper()
	db := testenv.DB(t)
	if _, err := db.Exec(t.Context(), `CREATE TABLE public.effects (consumer text NOT NULL, event_id uuid NOT NULL, n int NOT NULL)`); err != nil {
		t.Fatalf("create effects: %v", err)
	}
	return db
}

// event returns a CloudEvent with a fresh uuid id.
func event(t *testing.T) cloudevents.Event {
	t.Helper()
	e := cloudevents.NewEvent()
	e.SetID(uuid.NewString())
	e.SetType("product-created")
	e.SetSource("products")
	if err := e.SetData(cloudevents.ApplicationJSON, map[string]string{"k": "v"}); err != nil {
		t.Fatal(err)
	}
	return e
}

// effect is a handler that applies its effect (one effects row) in the consumer's tx.
func effect(consumer string, calls *atomic.Int32) inbox.Handler {
	return func(ctx context.Context, tx pgx.Tx, e cloudevents.Event) error {
		if calls != nil {
			calls.Add(1)
		}
		_, err := tx.Exec(ctx, `INSERT INTO public.effects (consumer, event_id, n) VALUES ($1, $2, 1)`, consumer, e.ID())
		return err
	}
}

// counts returns the number of effects rows and inbox rows of (consumer, event id).
func counts(t *testing.T, db *pgxpool.Pool, consumer, id string) (effects, inboxRows int) {
	t.Helper()
	err := db.QueryRow(t.Context(), `
		SELECT (SELECT count(*) FROM public.effects WHERE consumer = $1 AND event_id = $2::uuid),
		       (SELECT count(*) FROM messaging.inbox WHERE consumer = $1 AND event_id = $2::uuid)`,
		consumer, id).Scan(&effects, &inboxRows)
	if err != nil {
		t.Fatalf("count rows: %v", err)
	}
	return effects, inboxRows
}

func assertOnce(t *testing.T, db *pgxpool.Pool, consumer string, e cloudevents.Event) {
	t.Helper()
	effects, rows := counts(t, db, consumer, e.ID())
	if effects != 1 || rows != 1 {
		t.Fatalf("%s/%s: %d effects, %d inbox rows; want 1 and 1", consumer, e.ID(), effects, rows)
	}
	var topic string
	if err := db.QueryRow(t.Context(), `SELECT topic FROM messaging.inbox WHERE consumer = $1 AND event_id = $2::uuid`,
		consumer, e.ID()).Scan(&topic); err != nil {
		t.Fatal(err)
	}
	if topic != e.Type() {
		t.Fatalf("inbox topic = %q, want %q", topic, e.Type())
	}
}

// waitForLockWaiters polls (each poll is a database round trip) until n sessions of the
// test database wait on a lock.
func waitForLockWaiters(ctx context.Context, db *pgxpool.Pool, n int) error {
	deadline := time.Now().Add(10 * time.Second)
	for {
		var waiting int
		err := db.QueryRow(ctx, `
			SELECT count(*) FROM pg_stat_activity
			 WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&waiting)
		if err != nil {
			return err
		}
		if waiting >= n {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d sessions wait on a lock after 10s, want %d", waiting, n)
		}
	}
}

func TestConcurrentDuplicatesHaveOneEffect(t *testing.T) {
	t.Parallel()
	const deliveries, rounds = 5, 20
	cases := []struct {
		name string
		// hold makes the first delivery keep its transaction open until the other four
		// are blocked on its inbox row, so every round exercises the "wait, then skip" path.
		hold bool
	}{
		{name: "free race"},
		{name: "duplicates wait for the first transaction", hold: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			db := setup(t)
			const consumer = "concurrent"
			var calls atomic.Int32
			apply := effect(consumer, &calls)
			h := apply
			if tc.hold {
				h = func(ctx context.Context, tx pgx.Tx, e cloudevents.Event) error {
					if err := waitForLockWaiters(ctx, db, deliveries-1); err != nil {
						return err
					}
					return apply(ctx, tx, e)
				}
			}
			consume := inbox.Consume(db, consumer, h)
			for round := range rounds {
				calls.Store(0)
				e := event(t)
				start := make(chan struct{})
				errs := make([]error, deliveries)
				var wg sync.WaitGroup
				for i := range deliveries {
					wg.Go(func() {
						<-start
						errs[i] = consume(t.Context(), e)
					})
				}
				close(start)
				wg.Wait()
				for i, err := range errs {
					if err != nil {
						t.Fatalf("round %d delivery %d: %v", round, i, err)
					}
				}
				if n := calls.Load(); n != 1 {
					t.Fatalf("round %d: handler ran %d times, want 1", round, n)
				}
				assertOnce(t, db, consumer, e)
			}
			var effects, rows int
			if err := db.QueryRow(t.Context(), `SELECT (SELECT count(*) FROM public.effects), (SELECT count(*) FROM messaging.inbox)`).
				Scan(&effects, &rows); err != nil {
				t.Fatal(err)
			}
			if effects != rounds || rows != rounds {
				t.Fatalf("after %d rounds: %d effects, %d inbox rows; want %d each", rounds, effects, rows, rounds)
			}
		})
	}
}

func TestSequentialRedeliveryIsSkipped(t *testing.T) {
	t.Parallel()
	db := setup(t)
	const consumer = "sequential"
	var calls atomic.Int32
	consume := inbox.Consume(db, consumer, effect(consumer, &calls))
	e := event(t)
	for i := range 3 {
		if err := consume(t.Context(), e); err != nil {
			t.Fatalf("delivery %d: %v", i, err)
		}
		assertOnce(t, db, consumer, e)
	}
	if n := calls.Load(); n != 1 {
		t.Fatalf("handler ran %d times, want 1", n)
	}
}

func TestFailingHandlerRollsBackAndIsRetried(t *testing.T) {
	t.Parallel()
	db := setup(t)
	const consumer = "flaky"
	errBoom := errors.New("boom")
	var fail atomic.Bool
	fail.Store(true)
	consume := inbox.Consume(db, consumer, func(ctx context.Context, tx pgx.Tx, e cloudevents.Event) error {
		// The effect is written before the failure: the rollback must take it away.
		if err := effect(consumer, nil)(ctx, tx, e); err != nil {
			return err
		}
		if fail.Load() {
			return errBoom
		}
		return nil
	})
	e := event(t)

	for i := range 2 { // failing twice changes nothing either
		err := consume(t.Context(), e)
		if !errors.Is(err, errBoom) {
			t.Fatalf("failing delivery %d: err = %v, want one wrapping %v", i, err, errBoom)
		}
		if effects, rows := counts(t, db, consumer, e.ID()); effects != 0 || rows != 0 {
			t.Fatalf("after failing delivery %d: %d effects, %d inbox rows; want none", i, effects, rows)
		}
	}

	fail.Store(false)
	for i := range 2 {
		if err := consume(t.Context(), e); err != nil {
			t.Fatalf("retry %d: %v", i, err)
		}
		assertOnce(t, db, consumer, e)
	}
}

func TestConsumersAreIndependent(t *testing.T) {
	t.Parallel()
	db := setup(t)
	e := event(t)
	for _, consumer := range []string{"a", "b"} {
		consume := inbox.Consume(db, consumer, effect(consumer, nil))
		for range 2 {
			if err := consume(t.Context(), e); err != nil {
				t.Fatalf("%s: %v", consumer, err)
			}
		}
	}
	for _, consumer := range []string{"a", "b"} {
		assertOnce(t, db, consumer, e)
	}
	var total int
	if err := db.QueryRow(t.Context(), `SELECT count(*) FROM public.effects`).Scan(&total); err != nil {
		t.Fatal(err)
	}
	if total != 2 {
		t.Fatalf("%d effects in all, want 2", total)
	}
}

func TestNonUUIDEventIDIsRejected(t *testing.T) {
	t.Parallel()
	db := setup(t)
	var calls atomic.Int32
	consume := inbox.Consume(db, "strict", effect("strict", &calls))
	for _, id := range []string{"", "not-a-uuid", "42", "0f8fad5b-d9cb-469f-a165-70867728950"} {
		t.Run(fmt.Sprintf("%q", id), func(t *testing.T) {
			e := event(t)
			// SetID refuses an empty id, so set the context's field directly.
			e.Context.(*cloudevents.EventContextV1).ID = id
			if e.ID() != id {
				t.Fatalf("event id = %q, want %q", e.ID(), id)
			}
			err := consume(t.Context(), e)
			if !errors.Is(err, fault.ErrMalformedEvent) {
				t.Fatalf("Consume(id %q) = %v, want the malformed-event fault (a 4xx: dead-lettered, not acked)", id, err)
			}
		})
	}
	if n := calls.Load(); n != 0 {
		t.Fatalf("handler ran %d times, want 0", n)
	}
	var effects, rows int
	if err := db.QueryRow(t.Context(), `SELECT (SELECT count(*) FROM public.effects), (SELECT count(*) FROM messaging.inbox)`).
		Scan(&effects, &rows); err != nil {
		t.Fatal(err)
	}
	if effects != 0 || rows != 0 {
		t.Fatalf("%d effects, %d inbox rows; want none", effects, rows)
	}
}

func TestTraceparentReachesHandler(t *testing.T) {
	t.Parallel()
	db := setup(t)
	// The effect runs in the producer's trace; without one (or with one that is not a
	// traceparent) in a trace of its own.
	cases := []struct {
		name        string
		traceparent any // nil: no extension
		want        string
	}{
		{"sampled", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", "0af7651916cd43dd8448eb211c80319c"},
		{"not sampled", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00", "4bf92f3577b34da6a3ce929d0e0e4736"},
		{"absent", nil, ""},
		{"malformed", "00-nothex-00f067aa0ba902b7-01", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var got string
			consume := inbox.Consume(db, "traced-"+tc.name, func(ctx context.Context, _ pgx.Tx, _ cloudevents.Event) error {
				got = telemetry.TraceID(ctx)
				return nil
			})
			e := event(t)
			if tc.traceparent != nil {
				e.SetExtension("traceparent", tc.traceparent)
				if err := e.Validate(); err != nil {
					t.Fatalf("event: %v", err)
				}
			}
			if err := consume(t.Context(), e); err != nil {
				t.Fatal(err)
			}
			if (tc.want != "" && got != tc.want) || (tc.want == "" && len(got) != 32) {
				t.Fatalf("handler trace = %q, want %q (a new trace if empty)", got, tc.want)
			}
		})
	}
}

func TestPruneDeletesOnlyOldRowsInBatches(t *testing.T) {
	t.Parallel()
	const retention = 8 * 24 * time.Hour
	// 5000 is the batch size: 5000 and 10000 end with an empty batch, 12000 needs three.
	for _, old := range []int{0, 3, 5000, 12000} {
		t.Run(fmt.Sprint(old), func(t *testing.T) {
			t.Parallel()
			db := testenv.DB(t)
			ctx := t.Context()
			if _, err := db.Exec(ctx, `
				INSERT INTO messaging.inbox (consumer, event_id, topic, processed_at)
				SELECT 'old', gen_random_uuid(), 'product-created', now() - interval '10 days'
				  FROM generate_series(1, $1)`, old); err != nil {
				t.Fatal(err)
			}
			// Inside the retention, at both ends: all kept.
			keep := []string{"1 hour", "7 days 23 hours"}
			for _, age := range keep {
				if _, err := db.Exec(ctx, `
					INSERT INTO messaging.inbox (consumer, event_id, topic, processed_at)
					VALUES ('recent', gen_random_uuid(), 'product-created', now() - $1::interval)`, age); err != nil {
					t.Fatal(err)
				}
			}

			n, err := inbox.Prune(ctx, db, retention)
			if err != nil {
				t.Fatalf("Prune: %v", err)
			}
			if n != int64(old) {
				t.Fatalf("Prune = %d, want %d", n, old)
			}
			var oldLeft, recentLeft int
			if err := db.QueryRow(ctx, `
				SELECT count(*) FILTER (WHERE consumer = 'old'), count(*) FILTER (WHERE consumer = 'recent')
				  FROM messaging.inbox`).Scan(&oldLeft, &recentLeft); err != nil {
				t.Fatal(err)
			}
			if oldLeft != 0 || recentLeft != len(keep) {
				t.Fatalf("left %d old and %d recent rows, want 0 and %d", oldLeft, recentLeft, len(keep))
			}

			if n, err := inbox.Prune(ctx, db, retention); err != nil || n != 0 {
				t.Fatalf("second Prune = %d, %v; want 0, nil", n, err)
			}
		})
	}
}
