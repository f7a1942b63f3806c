package relay

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/twmb/franz-go/pkg/kgo"
	"go.opentelemetry.io/otel/attribute"

	"github.com/8949market/market/shared/bus"
	"github.com/8949market/market/shared/outbox"
	"github.com/8949market/market/shared/testenv"
)

// record writes the inbox row consumer writes when it has applied event id.
func (b *testBundle) record(t *testing.T, consumer string, id uuid.UUID) {
	t.Helper()
	if _, err := b.db.Exec(context.Background(), `
		INSERT INTO messaging.inbox (consumer, event_id, topic) VALUES ($1, $2, 'product-created')`, consumer, id); err != nil {
		t.Fatal(err)
	}
}

// published counts the copies of each event id on topic, reading until total records.
func (b *testBundle) published(t *testing.T, topic string, total int) map[string]int {
	t.Helper()
	counts := map[string]int{}
	for _, r := range b.consume(t, topic, total) {
		m, err := bus.FromKafka(r)
		if err != nil {
			t.Fatal(err)
		}
		counts[m.ID]++
	}
	return counts
}

type outboxRow struct {
	status    string
	attempts  int
	lastError string
}

func (b *testBundle) row(t *testing.T, id uuid.UUID) outboxRow {
	t.Helper()
	var r outboxRow
	if err := b.db.QueryRow(context.Background(), `
		SELECT status, attempts, coalesce(last_error, '') FROM messaging.outbox WHERE id = $1`, id).
		Scan(&r.status, &r.attempts, &r.lastError); err != nil {
		t.Fatal(err)
	}
	return r
}

// An event a consumer of its topic has not recorded is published again, up to
// MaxRedeliveries times; one every consumer has is not. What stays unrecorded is marked
// FAILED with the consumers it misses, and reported once.
func TestReconcileRedeliversWhatConsumersMiss(t *testing.T) {
	// Not parallel: it reads the process's log (parallel tests start after it).
	logs := &testenv.Output{}
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewJSONHandler(logs, nil)))
	t.Cleanup(func() { slog.SetDefault(prev) })

	b := setup(t)
	ctx := context.Background()
	ids := b.write(t, aggregates(3), 1)
	both, partial, none := ids[0], ids[1], ids[2]
	r := b.relay(Options{Consumers: Consumers{"product-created": {"c1", "c2"}}, MaxRedeliveries: 2})
	if _, err := r.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	b.record(t, "c1", both)
	b.record(t, "c2", both)
	b.record(t, "c1", partial)
	topic := b.prefix + "product-created"
	givenUp := []attribute.KeyValue{attribute.String("topic", "product-created"), attribute.String("source", bus.DeadLetterReconcile)}
	givenUpBefore := otelkit.Counter(t, "market.deadletters", givenUp...)

	// Sent just now: a consumer catching up is not a lost event.
	if res, _, err := r.Reconcile(ctx, time.Time{}, time.Time{}); err != nil || res != (Reconciled{}) {
		t.Fatalf("Reconcile = %+v, %v; want nothing before RedeliverAfter", res, err)
	}

	steps := []struct {
		name   string
		before func()
		want   Reconciled
		copies map[uuid.UUID]int // published copies of each event so far
		rows   map[uuid.UUID]outboxRow
	}{
		{
			name: "first pass", want: Reconciled{Redelivered: 2},
			copies: map[uuid.UUID]int{both: 1, partial: 2, none: 2},
			rows: map[uuid.UUID]outboxRow{
				both:    {status: "SENT", attempts: 1},
				partial: {status: "SENT", attempts: 2, lastError: "redelivered: not recorded by c2 after 1 publishes"},
				none:    {status: "SENT", attempts: 2, lastError: "redelivered: not recorded by c1, c2 after 1 publishes"},
			},
		},
		{
			name: "none arrives, partial is still missing", before: func() { b.record(t, "c1", none); b.record(t, "c2", none) },
			want:   Reconciled{Redelivered: 1},
			copies: map[uuid.UUID]int{both: 1, partial: 3, none: 2},
			rows: map[uuid.UUID]outboxRow{
				none:    {status: "SENT", attempts: 2, lastError: "redelivered: not recorded by c1, c2 after 1 publishes"},
				partial: {status: "SENT", attempts: 3, lastError: "redelivered: not recorded by c2 after 2 publishes"},
			},
		},
		{
			name: "partial's budget is spent", want: Reconciled{GivenUp: 1},
			copies: map[uuid.UUID]int{both: 1, partial: 3, none: 2},
			rows: map[uuid.UUID]outboxRow{
				partial: {status: "FAILED", attempts: 3, lastError: "not recorded by c2 after 3 publishes"},
			},
		},
		{
			name: "a FAILED row is the operator's", want: Reconciled{},
			copies: map[uuid.UUID]int{both: 1, partial: 3, none: 2},
		},
	}
	for _, s := range steps {
		if s.before != nil {
			s.before()
		}
		res, _, err := r.Reconcile(ctx, time.Time{}, now(t, r))
		if err != nil || res != s.want {
			t.Fatalf("%s: Reconcile = %+v, %v; want %+v", s.name, res, err, s.want)
		}
		total := 0
		for _, n := range s.copies {
			total += n
		}
		got := b.published(t, topic, total)
		for id, n := range s.copies {
			if got[id.String()] != n {
				t.Errorf("%s: %d copies of %s published, want %d", s.name, got[id.String()], id, n)
			}
		}
		for id, want := range s.rows {
			if row := b.row(t, id); row != want {
				t.Errorf("%s: row %s = %+v, want %+v", s.name, id, row, want)
			}
		}
	}

	// Every copy continues its row's trace from a span of its own: publish, then
	// redeliver, which links its reconciliation pass.
	redelivered := 0
	for _, r := range b.consume(t, topic, 6) {
		m, err := bus.FromKafka(r)
		if err != nil {
			t.Fatal(err)
		}
		var rowTP string
		if err := b.db.QueryRow(ctx, `SELECT traceparent FROM messaging.outbox WHERE id = $1`, m.ID).Scan(&rowTP); err != nil {
			t.Fatal(err)
		}
		span, ok := otelkit.Span(spanContextOf(m.Traceparent).SpanID())
		if !ok || span.Parent().SpanID() != spanContextOf(rowTP).SpanID() {
			t.Fatalf("copy of %s carries %q, not a relay span child of the row's %q", m.ID, m.Traceparent, rowTP)
		}
		if span.Name() == "redeliver "+topic {
			redelivered++
			if l := span.Links(); len(l) != 1 {
				t.Errorf("redeliver span links %v, want the reconciliation pass", l)
			} else if pass, ok := otelkit.Span(l[0].SpanContext.SpanID()); !ok || pass.Name() != "relay.reconcile" {
				t.Errorf("redeliver span links %v, want the relay.reconcile span", l[0].SpanContext.SpanID())
			}
		}
	}
	if redelivered != 3 {
		t.Errorf("%d copies carry a redeliver span, want 3", redelivered)
	}
	if n := otelkit.Counter(t, "market.deadletters", givenUp...); n != givenUpBefore+1 {
		t.Errorf("market.deadletters{source=reconcile} went from %d to %d, want +1", givenUpBefore, n)
	}

	// The give-up is reported once, with what an alert and an operator match.
	var reports []map[string]any
	for _, line := range logs.Lines() {
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) == nil && rec["msg"] == UndeliveredMessage {
			reports = append(reports, rec)
		}
	}
	if len(reports) != 1 {
		t.Fatalf("%d give-up reports, want 1:\n%s", len(reports), logs.String())
	}
	rep := reports[0]
	consumers, _ := rep["consumers"].([]any)
	if rep["level"] != "WARN" || rep["eventId"] != partial.String() || rep["topic"] != "product-created" ||
		rep["aggregateId"] != "agg-001" || len(consumers) != 1 || consumers[0] != "c2" || rep["publishes"] != float64(3) {
		t.Errorf("report = %v", rep)
	}
}

// now is the database's clock: everything sent so far was sent before it.
func now(t *testing.T, r *Relay) time.Time {
	t.Helper()
	n, err := r.Now(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n.Add(time.Millisecond)
}

// The events of one aggregate travel on several topics: of those a consumer misses, the
// first is published again, and the next only once the first is recorded (or given up),
// so a consumer of the second never sees it before the first.
func TestReconcileKeepsTheAggregatesOrder(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	created, cancelled := uuid.New(), uuid.New()
	for _, e := range []struct {
		id    uuid.UUID
		topic string
	}{{created, "product-created"}, {cancelled, "product-cancelled"}} {
		if err := pgx.BeginFunc(ctx, b.db, func(tx pgx.Tx) error {
			return outbox.Write(ctx, tx, outbox.Event{ID: e.id, Topic: e.topic, Source: "test", AggregateID: "p1", Data: testEvent{}})
		}); err != nil {
			t.Fatal(err)
		}
	}
	r := b.relay(Options{MaxRedeliveries: 2, Consumers: Consumers{"product-created": {"opener"}, "product-cancelled": {"closer"}}})
	if _, err := r.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name   string
		before func()
		want   Reconciled
	}{
		{name: "the first goes, the second waits", want: Reconciled{Redelivered: 1, Waiting: 1}},
		{name: "still unrecorded: the first again", want: Reconciled{Redelivered: 1, Waiting: 1}},
		{name: "given up: it holds nothing back", want: Reconciled{GivenUp: 1, Waiting: 1}},
		{name: "then the second", want: Reconciled{Redelivered: 1}},
	}
	for _, s := range steps {
		res, _, err := r.Reconcile(ctx, time.Time{}, now(t, r))
		if err != nil || res != s.want {
			t.Fatalf("%s: Reconcile = %+v, %v; want %+v", s.name, res, err, s.want)
		}
	}
	if got := b.published(t, b.prefix+"product-created", 3)[created.String()]; got != 3 {
		t.Errorf("product-created published %d times, want 3", got)
	}
	if got := b.published(t, b.prefix+"product-cancelled", 2)[cancelled.String()]; got != 2 {
		t.Errorf("product-cancelled published %d times, want 2", got)
	}
}

// After the broker lost its log, Recover publishes what the consumers miss, each
// aggregate's in write order as the consumers record it, and returns when nothing waits.
func TestRecoverAfterTheBrokerLostItsLog(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	const aggs, events = 4, 3
	ids := b.write(t, aggregates(aggs), events)
	r := b.relay(Options{Consumers: Consumers{"product-created": {"c1"}}})
	if _, err := r.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	lost := b.prefix + "product-created"
	// The broker's log is gone: the consumer reads a fresh topic. It records what it
	// gets and keeps the order it got the events in.
	b.prefix = "after-" + b.prefix
	r = b.relay(Options{Consumers: Consumers{"product-created": {"c1"}}})
	got := make(chan []string, 1)
	go func() {
		cl, err := kgo.NewClient(kgo.SeedBrokers(b.brokers...), kgo.ConsumeTopics(b.prefix+"product-created"),
			kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(50*time.Millisecond), kgo.AllowAutoTopicCreation())
		if err != nil {
			t.Error(err)
			got <- nil
			return
		}
		defer cl.Close()
		var order []string
		for len(order) < len(ids) && ctx.Err() == nil {
			cl.PollFetches(ctx).EachRecord(func(rec *kgo.Record) {
				m, err := bus.FromKafka(rec)
				if err != nil {
					t.Error(err)
					return
				}
				var e testEvent
				_ = json.Unmarshal(m.Data, &e)
				order = append(order, fmt.Sprintf("%s/%d", e.Aggregate, e.N))
				_, _ = b.db.Exec(ctx, `INSERT INTO messaging.inbox (consumer, event_id, topic) VALUES ('c1', $1, 'product-created')`, m.ID)
			})
		}
		got <- order
	}()
	res, err := r.Recover(ctx, now(t, r), 10*time.Millisecond, 10*time.Second)
	if err != nil || res.Redelivered != len(ids) || res.Waiting != 0 {
		t.Fatalf("Recover = %+v, %v; want %d redelivered, none waiting", res, err, len(ids))
	}
	order := <-got
	next := map[string]int{}
	for _, o := range order {
		var agg string
		var n int
		if _, err := fmt.Sscanf(strings.Replace(o, "/", " ", 1), "%s %d", &agg, &n); err != nil {
			t.Fatal(err)
		}
		if n != next[agg] {
			t.Fatalf("%s arrived out of order: %v", o, order)
		}
		next[agg]++
	}
	if len(order) != aggs*events {
		t.Errorf("consumer got %d events, want %d (%s held %d)", len(order), aggs*events, lost, len(ids))
	}
}

// Run reconciles on its own, every ReconcileInterval: an event nobody records is
// published 1 + MaxRedeliveries times and then ends FAILED.
func TestRunReconciles(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ids := b.write(t, aggregates(1), 1)
	r := b.relay(Options{Consumers: Consumers{"product-created": {"nobody"}}, MaxRedeliveries: 2,
		RedeliverAfter: time.Millisecond, ReconcileInterval: 20 * time.Millisecond, PollInterval: 20 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	deadline := time.Now().Add(20 * time.Second)
	for b.row(t, ids[0]).status != "FAILED" {
		if time.Now().After(deadline) {
			t.Fatalf("row still %+v after 20s", b.row(t, ids[0]))
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := b.published(t, b.prefix+"product-created", 3)[ids[0].String()]; got != 3 {
		t.Errorf("%d copies published, want 3 (1 + MaxRedeliveries)", got)
	}
	if row := b.row(t, ids[0]); !strings.HasPrefix(row.lastError, "not recorded by nobody") {
		t.Errorf("row = %+v", row)
	}
}

// Pages of undelivered events follow each other without gaps or repeats, also between
// rows sent in the same instant (the relay marks a whole batch sent in one statement).
func TestFindUndeliveredPages(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	ids := b.write(t, aggregates(7), 1)
	if _, err := b.relay(Options{}).Drain(ctx); err != nil {
		t.Fatal(err)
	}
	w := Window{AfterSeq: -1, To: time.Now().Add(time.Hour)}
	var seen []uuid.UUID
	for {
		page, err := FindUndelivered(ctx, b.db, Consumers{"product-created": {"c1"}, "other-topic": {"c9"}}, w, 3)
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range page {
			if !slices.Equal(u.Missing, []string{"c1"}) || u.Attempts != 1 {
				t.Errorf("undelivered %+v", u)
			}
			seen = append(seen, u.ID)
		}
		if len(page) < 3 {
			break
		}
		w.From, w.AfterSeq = page[len(page)-1].SentAt, page[len(page)-1].Seq
	}
	if !slices.Equal(seen, ids) {
		t.Errorf("pages gave %v, want %v", seen, ids)
	}
}

func TestConsumersFromManifest(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, manifest string
		want           Consumers
		err            bool
	}{
		{name: "event functions by topic", manifest: `{"functions": [
			{"name": "a-get", "kind": "http", "method": "GET", "path": "/api/v1/a"},
			{"name": "b-created", "kind": "event", "topic": "product-created"},
			{"name": "c-created", "kind": "event", "topic": "product-created", "host": "chat-server"},
			{"name": "d-tick", "kind": "scheduled", "schedule": "* * * * *"}]}`,
			want: Consumers{"product-created": {"b-created", "c-created"}}},
		{name: "no consumer", manifest: `{"functions": [{"name": "a-get", "kind": "http"}]}`, err: true},
		{name: "not json", manifest: `{`, err: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := ConsumersFromManifest([]byte(tc.manifest))
			if (err != nil) != tc.err {
				t.Fatalf("err = %v, want error %v", err, tc.err)
			}
			if len(got) != len(tc.want) || !slices.Equal(got["product-created"], tc.want["product-created"]) {
				t.Errorf("consumers = %v, want %v", got, tc.want)
			}
		})
	}
}
