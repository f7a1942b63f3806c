// Package eventtest is the one messaging test kit: deliver an event to a consumer the way
// Pub/Sub push or the bridge does, and read what the messaging tables hold — the inbox
// rows a consumer recorded and the outbox rows (events) a change wrote. Every domain's
// tests use it; no domain kit keeps a copy.
package eventtest

import (
	"context"
	"encoding/json"
	"sync"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// DB is what the readers need of a database: a stack's st.Kit.DB, a pool of a domain
// test's own, or a transaction.
type DB interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// Deliverer posts an event to an event function and returns the HTTP status: a
// stacktest.Stack, or a test's own server.
type Deliverer interface {
	Deliver(function, topic, source string, id uuid.UUID, data any) (int, error)
}

// Deliver posts data (as JSON) to the consumer function as a binary-mode CloudEvent with
// eventID, topic and source, and returns the HTTP status.
func Deliver(t testing.TB, to Deliverer, function, topic, source string, eventID uuid.UUID, data any) int {
	t.Helper()
	status, err := to.Deliver(function, topic, source, eventID, data)
	if err != nil {
		t.Fatalf("eventtest: deliver %s to %s: %v", topic, function, err)
	}
	return status
}

// MustDeliver delivers and fails the test unless the function acknowledged the event.
func MustDeliver(t testing.TB, to Deliverer, function, topic, source string, eventID uuid.UUID, data any) {
	t.Helper()
	if status := Deliver(t, to, function, topic, source, eventID, data); status/100 != 2 {
		t.Fatalf("eventtest: deliver %s to %s: status %d, want 2xx", topic, function, status)
	}
}

// DeliverAtOnce delivers the same event n times concurrently, released together, and
// returns the statuses.
func DeliverAtOnce(t testing.TB, to Deliverer, n int, function, topic, source string, eventID uuid.UUID, data any) []int {
	t.Helper()
	start := make(chan struct{})
	statuses := make([]int, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			statuses[i], errs[i] = to.Deliver(function, topic, source, eventID, data)
		})
	}
	close(start)
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatalf("eventtest: deliver %s to %s: %v", topic, function, err)
		}
	}
	return statuses
}

// InboxRows counts the consumer's inbox rows for the event: 1 once it is applied, never
// more.
func InboxRows(t testing.TB, db DB, consumer string, eventID uuid.UUID) int {
	t.Helper()
	var n int
	if err := db.QueryRow(context.Background(),
		`SELECT count(*) FROM messaging.inbox WHERE consumer = $1 AND event_id = $2`, consumer, eventID).Scan(&n); err != nil {
		t.Fatalf("eventtest: inbox rows of %s: %v", consumer, err)
	}
	return n
}

// Row is one messaging.outbox row, its payload as written.
type Row struct {
	ID          uuid.UUID
	Topic       string
	Source      string
	AggregateID string
	Payload     json.RawMessage
}

// Decode decodes the row's payload into v.
func (r Row) Decode(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Payload, v); err != nil {
		t.Fatalf("eventtest: decode %s payload: %v: %s", r.Topic, err, r.Payload)
	}
}

// Outbox returns the outbox rows about aggregateID on topic, in write order; an empty
// aggregateID or topic matches every one.
func Outbox(t testing.TB, db DB, aggregateID, topic string) []Row {
	t.Helper()
	rows, err := db.Query(context.Background(), `
		SELECT id, topic, source, aggregate_id, payload FROM messaging.outbox
		 WHERE ($1::text = '' OR aggregate_id = $1::text) AND ($2::text = '' OR topic = $2::text)
		 ORDER BY seq`, aggregateID, topic)
	if err != nil {
		t.Fatalf("eventtest: outbox: %v", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Row, error) {
		var r Row
		var raw []byte
		err := row.Scan(&r.ID, &r.Topic, &r.Source, &r.AggregateID, &raw)
		r.Payload = raw
		return r, err
	})
	if err != nil {
		t.Fatalf("eventtest: outbox: %v", err)
	}
	return out
}

// Events decodes the payloads of the aggregate's outbox rows on topic, oldest first.
func Events[T any](t testing.TB, db DB, aggregateID uuid.UUID, topic string) []T {
	t.Helper()
	var out []T
	for _, r := range Outbox(t, db, aggregateID.String(), topic) {
		var v T
		r.Decode(t, &v)
		out = append(out, v)
	}
	return out
}

// Topics lists the topics of rows, in order.
func Topics(rows []Row) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = r.Topic
	}
	return out
}
