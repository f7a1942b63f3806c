package producttest

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/8949market/market/shared/devstack/stacktest"
)

// DB is what the messaging readers need of a database: a stack's st.Kit.DB, a pool of a
// domain test's own, or a transaction.
type DB interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// Deliver posts data to the consumer function as a binary-mode CloudEvent with eventID,
// topic and source, the way the push bridge delivers it, and returns the HTTP status.
// data goes as stacktest.Do sends a body: a value as JSON.
func Deliver(t testing.TB, st *stacktest.Stack, function, topic, source string, eventID uuid.UUID, data any) int {
	t.Helper()
	status, err := st.Deliver(function, topic, source, eventID, data)
	if err != nil {
		t.Fatalf("producttest: %v", err)
	}
	return status
}

// InboxRows counts the consumer's inbox rows for the event.
func InboxRows(t testing.TB, db DB, consumer string, eventID uuid.UUID) int {
	t.Helper()
	var n int
	if err := db.QueryRow(context.Background(),
		`SELECT count(*) FROM messaging.inbox WHERE consumer = $1 AND event_id = $2`, consumer, eventID).Scan(&n); err != nil {
		t.Fatalf("producttest: inbox rows of %s: %v", consumer, err)
	}
	return n
}

// OutboxRow is one messaging.outbox row, its payload as written.
type OutboxRow struct {
	Topic       string
	Source      string
	AggregateID string
	Payload     json.RawMessage
}

// Decode decodes the row's payload into v.
func (r OutboxRow) Decode(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Payload, v); err != nil {
		t.Fatalf("producttest: decode %s payload: %v: %s", r.Topic, err, r.Payload)
	}
}

// Outbox returns the outbox rows about aggregateID on topic, in write order; an empty
// aggregateID or topic matches every one.
func Outbox(t testing.TB, db DB, aggregateID, topic string) []OutboxRow {
	t.Helper()
	rows, err := db.Query(context.Background(), `
		SELECT topic, source, aggregate_id, payload FROM messaging.outbox
		 WHERE ($1::text = '' OR aggregate_id = $1::text) AND ($2::text = '' OR topic = $2::text)
		 ORDER BY seq`, aggregateID, topic)
	if err != nil {
		t.Fatalf("producttest: outbox: %v", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (OutboxRow, error) {
		var r OutboxRow
		var raw []byte
		err := row.Scan(&r.Topic, &r.Source, &r.AggregateID, &raw)
		r.Payload = raw
		return r, err
	})
	if err != nil {
		t.Fatalf("producttest: outbox: %v", err)
	}
	return out
}

// Events decodes the payloads of the product's outbox rows on topic, oldest first.
func Events[T any](t testing.TB, db DB, id uuid.UUID, topic string) []T {
	t.Helper()
	var out []T
	for _, r := range Outbox(t, db, id.String(), topic) {
		var v T
		r.Decode(t, &v)
		out = append(out, v)
	}
	return out
}
