package outbox_test

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/8949market/market/shared/outbox"
	"github.com/8949market/market/shared/telemetry"
	"github.com/8949market/market/shared/testenv"
)

type productCreated struct {
	ProductID string   `json:"productId"`
	Price     int64    `json:"price"`
	Tags      []string `json:"tags"`
}

// row is an outbox row as stored.
type row struct {
	id          uuid.UUID
	seq         int64
	topic       string
	source      string
	aggregateID string
	payload     []byte
	traceparent *string
	status      string
	attempts    int
}

func rows(t *testing.T, db *pgxpool.Pool) []row {
	t.Helper()
	rs, err := db.Query(t.Context(), `
		SELECT id, seq, topic, source, aggregate_id, payload::text, traceparent, status, attempts
		  FROM messaging.outbox ORDER BY seq`)
	if err != nil {
		t.Fatal(err)
	}
	out, err := pgx.CollectRows(rs, func(r pgx.CollectableRow) (row, error) {
		var o row
		err := r.Scan(&o.id, &o.seq, &o.topic, &o.source, &o.aggregateID, &o.payload, &o.traceparent, &o.status, &o.attempts)
		return o, err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// sameJSON reports whether a and b encode the same JSON value (jsonb reorders keys and
// drops whitespace).
func sameJSON(t *testing.T, a, b []byte) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatalf("payload %s: %v", a, err)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatalf("payload %s: %v", b, err)
	}
	xs, _ := json.Marshal(x) // maps marshal with sorted keys
	ys, _ := json.Marshal(y)
	return string(xs) == string(ys)
}

func TestWriteStoresPendingRow(t *testing.T) {
	t.Parallel()
	given := uuid.New()
	const traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	// The row carries its write span: the caller's trace, or a trace of its own.
	cases := []struct {
		name        string
		id          uuid.UUID
		data        any
		traceparent string // the caller's; "" for none
		sampled     string // the stored traceparent's flags
	}{
		{"given id with trace", given, productCreated{ProductID: "p-1", Price: 350000, Tags: []string{"bike"}}, "00-" + traceID + "-00f067aa0ba902b7-01", "01"},
		{"zero id without trace", uuid.Nil, map[string]any{"b": 1, "a": []int{1, 2}, "z": map[string]string{"k": "v"}}, "", "00"},
		{"unsampled trace", uuid.Nil, "just a string", "00-" + traceID + "-00f067aa0ba902b7-00", "00"},
		{"nil data", uuid.Nil, nil, "", "00"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			db := testenv.DB(t)
			ctx := t.Context()
			ctx = telemetry.WithTraceparent(ctx, tc.traceparent)
			e := outbox.Event{ID: tc.id, Topic: "product-created", Source: "products", AggregateID: "p-1", Data: tc.data}
			if err := pgx.BeginFunc(ctx, db, func(tx pgx.Tx) error { return outbox.Write(ctx, tx, e) }); err != nil {
				t.Fatalf("Write: %v", err)
			}

			got := rows(t, db)
			if len(got) != 1 {
				t.Fatalf("%d rows, want 1", len(got))
			}
			r := got[0]
			if tc.id != uuid.Nil && r.id != tc.id {
				t.Errorf("id = %s, want the given %s", r.id, tc.id)
			}
			if r.id == uuid.Nil || (tc.id == uuid.Nil && r.id.Version() != 4) {
				t.Errorf("id = %s, want a random (v4) uuid", r.id)
			}
			if r.topic != e.Topic || r.source != e.Source || r.aggregateID != e.AggregateID {
				t.Errorf("topic, source, aggregate = %q, %q, %q; want %q, %q, %q",
					r.topic, r.source, r.aggregateID, e.Topic, e.Source, e.AggregateID)
			}
			want, err := json.Marshal(tc.data)
			if err != nil {
				t.Fatal(err)
			}
			if !sameJSON(t, r.payload, want) {
				t.Errorf("payload = %s, want %s", r.payload, want)
			}
			if r.status != "PENDING" || r.attempts != 0 {
				t.Errorf("status %s, attempts %d; want PENDING, 0", r.status, r.attempts)
			}
			if r.traceparent == nil {
				t.Fatal("traceparent = NULL, want the write span's")
			}
			back := telemetry.WithTraceparent(t.Context(), *r.traceparent)
			switch {
			case telemetry.TraceID(back) == "":
				t.Errorf("traceparent %q is not a W3C traceparent", *r.traceparent)
			case tc.traceparent != "" && telemetry.TraceID(back) != traceID:
				t.Errorf("traceparent %q, want the caller's trace %s", *r.traceparent, traceID)
			case tc.traceparent == "" && telemetry.TraceID(back) == traceID:
				t.Errorf("traceparent %q continues a trace nobody started", *r.traceparent)
			case strings.Contains(*r.traceparent, "00f067aa0ba902b7"):
				t.Errorf("traceparent %q names the caller's span, want the write span", *r.traceparent)
			case !strings.HasSuffix(*r.traceparent, "-"+tc.sampled):
				t.Errorf("traceparent %q, want flags %s", *r.traceparent, tc.sampled)
			}
		})
	}
}

func TestZeroIDsAreDistinct(t *testing.T) {
	t.Parallel()
	db := testenv.DB(t)
	ctx := t.Context()
	err := pgx.BeginFunc(ctx, db, func(tx pgx.Tx) error {
		for range 3 {
			if err := outbox.Write(ctx, tx, outbox.Event{Topic: "t", Source: "s", AggregateID: "a", Data: 1}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	got := rows(t, db)
	ids := map[uuid.UUID]bool{}
	for _, r := range got {
		ids[r.id] = true
	}
	if len(got) != 3 || len(ids) != 3 {
		t.Fatalf("%d rows with %d distinct ids, want 3 and 3", len(got), len(ids))
	}
}

func TestWriteInRolledBackTransactionLeavesNoRow(t *testing.T) {
	t.Parallel()
	db := testenv.DB(t)
	ctx := t.Context()
	errAbort := errors.New("abort")
	err := pgx.BeginFunc(ctx, db, func(tx pgx.Tx) error {
		for range 3 {
			if err := outbox.Write(ctx, tx, outbox.Event{Topic: "t", Source: "s", AggregateID: "a", Data: 1}); err != nil {
				return err
			}
		}
		var n int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM messaging.outbox`).Scan(&n); err != nil || n != 3 {
			t.Errorf("inside the transaction: %d rows (%v), want 3", n, err)
		}
		return errAbort
	})
	if !errors.Is(err, errAbort) {
		t.Fatalf("BeginFunc = %v, want %v", err, errAbort)
	}
	if got := rows(t, db); len(got) != 0 {
		t.Fatalf("%d rows after rollback, want none", len(got))
	}
}

func TestWriteRejectsInvalidEvents(t *testing.T) {
	t.Parallel()
	valid := outbox.Event{Topic: "product-created", Source: "products", AggregateID: "p-1", Data: map[string]int{"n": 1}}
	with := func(f func(e *outbox.Event)) outbox.Event {
		e := valid
		f(&e)
		return e
	}
	cases := []struct {
		name string
		e    outbox.Event
	}{
		{"no topic", with(func(e *outbox.Event) { e.Topic = "" })},
		{"no source", with(func(e *outbox.Event) { e.Source = "" })},
		{"no aggregate id", with(func(e *outbox.Event) { e.AggregateID = "" })},
		{"nothing", outbox.Event{}},
		{"channel data", with(func(e *outbox.Event) { e.Data = make(chan int) })},
		{"func data", with(func(e *outbox.Event) { e.Data = func() {} })},
		{"NaN data", with(func(e *outbox.Event) { e.Data = map[string]float64{"x": math.NaN()} })},
		{"failing marshaler", with(func(e *outbox.Event) { e.Data = badJSON{} })},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			db := testenv.DB(t)
			ctx := t.Context()
			// The transaction commits: whatever Write did not refuse would be stored.
			var werr error
			if err := pgx.BeginFunc(ctx, db, func(tx pgx.Tx) error {
				werr = outbox.Write(ctx, tx, tc.e)
				return nil
			}); err != nil {
				t.Fatalf("commit: %v", err)
			}
			if werr == nil {
				t.Fatal("Write = nil, want an error")
			}
			if got := rows(t, db); len(got) != 0 {
				t.Fatalf("%d rows, want none", len(got))
			}
		})
	}
}

type badJSON struct{}

var errBadJSON = errors.New("cannot encode")

func (badJSON) MarshalJSON() ([]byte, error) { return nil, errBadJSON }

func TestWriteWrapsEncodeError(t *testing.T) {
	t.Parallel()
	db := testenv.DB(t)
	ctx := t.Context()
	tx, err := db.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // rollback of a read-nothing tx
	err = outbox.Write(ctx, tx, outbox.Event{Topic: "t", Source: "s", AggregateID: "a", Data: badJSON{}})
	if !errors.Is(err, errBadJSON) {
		t.Fatalf("Write = %v, want one wrapping %v", err, errBadJSON)
	}
}

func TestWriteDuplicateIDIsAnError(t *testing.T) {
	t.Parallel()
	db := testenv.DB(t)
	ctx := t.Context()
	e := outbox.Event{ID: uuid.New(), Topic: "t", Source: "s", AggregateID: "a", Data: 1}
	write := func() error {
		return pgx.BeginFunc(ctx, db, func(tx pgx.Tx) error { return outbox.Write(ctx, tx, e) })
	}
	if err := write(); err != nil {
		t.Fatal(err)
	}
	err := write()
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "23505" {
		t.Fatalf("second Write of id %s = %v, want a unique violation", e.ID, err)
	}
	if got := rows(t, db); len(got) != 1 {
		t.Fatalf("%d rows, want 1", len(got))
	}
}

// listen opens a connection of its own on db's database that listens to the outbox channel.
func listen(t *testing.T, db *pgxpool.Pool) *pgx.Conn {
	t.Helper()
	conn, err := pgx.ConnectConfig(t.Context(), db.Config().ConnConfig.Copy())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close(context.Background()) })
	if _, err := conn.Exec(t.Context(), `LISTEN messaging_outbox`); err != nil {
		t.Fatal(err)
	}
	return conn
}

func writeMany(ctx context.Context, db *pgxpool.Pool, n int, commit bool) error {
	errAbort := errors.New("abort")
	err := pgx.BeginFunc(ctx, db, func(tx pgx.Tx) error {
		for range n {
			if err := outbox.Write(ctx, tx, outbox.Event{Topic: "t", Source: "s", AggregateID: "a", Data: 1}); err != nil {
				return err
			}
		}
		if !commit {
			return errAbort
		}
		return nil
	})
	if !commit && errors.Is(err, errAbort) {
		return nil
	}
	return err
}

func TestNotifyOnCommit(t *testing.T) {
	t.Parallel()
	db := testenv.DB(t)
	conn := listen(t, db)
	if err := writeMany(t.Context(), db, 3, true); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	n, err := conn.WaitForNotification(ctx)
	if err != nil {
		t.Fatalf("no notification after commit: %v", err)
	}
	if n.Channel != "messaging_outbox" {
		t.Fatalf("notification on %q, want messaging_outbox", n.Channel)
	}
}

func TestNoNotifyOnRollback(t *testing.T) {
	t.Parallel()
	db := testenv.DB(t)
	conn := listen(t, db)
	if err := writeMany(t.Context(), db, 3, false); err != nil {
		t.Fatal(err)
	}
	// Asserting an absence needs a bounded wait.
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	n, err := conn.WaitForNotification(ctx)
	cancel()
	if err == nil {
		t.Fatalf("notification %+v after a rolled-back transaction", n)
	}
	if !errors.Is(err, context.DeadlineExceeded) && !pgconn.Timeout(err) {
		t.Fatalf("WaitForNotification: %v, want a timeout", err)
	}
	if got := rows(t, db); len(got) != 0 {
		t.Fatalf("%d rows after rollback, want none", len(got))
	}

	// The listener still works: a commit afterwards is heard.
	if err := writeMany(t.Context(), db, 1, true); err != nil {
		t.Fatal(err)
	}
	ctx, cancel = context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if _, err := conn.WaitForNotification(ctx); err != nil {
		t.Fatalf("no notification after a later commit: %v", err)
	}
}

func TestSeqFollowsWriteOrder(t *testing.T) {
	t.Parallel()
	db := testenv.DB(t)
	ctx := t.Context()
	var want []uuid.UUID
	for range 5 { // five transactions of three events each
		err := pgx.BeginFunc(ctx, db, func(tx pgx.Tx) error {
			for range 3 {
				id := uuid.New()
				want = append(want, id)
				if err := outbox.Write(ctx, tx, outbox.Event{ID: id, Topic: "t", Source: "s", AggregateID: "a", Data: 1}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	got := rows(t, db)
	ids := make([]uuid.UUID, len(got))
	for i, r := range got {
		ids[i] = r.id
		if i > 0 && r.seq <= got[i-1].seq {
			t.Fatalf("seq %d after %d", r.seq, got[i-1].seq)
		}
	}
	if !slices.Equal(ids, want) {
		t.Fatalf("ids by seq = %v, want write order %v", ids, want)
	}
}
