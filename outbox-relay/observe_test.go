package relay

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/8949market/market/shared/bus"
	"github.com/8949market/market/shared/outbox"
	"github.com/8949market/market/shared/telemetry"
	"github.com/8949market/market/shared/telemetry/telemetrytest"
	"github.com/8949market/market/shared/testenv"
)

// The tests of this file read the process's counters and gauges: they are not parallel
// (parallel tests start after them), so what moves is theirs.

// otelkit records the process's spans and metrics; the benchmark switches it to the
// deployed configuration and back.
var otelkit = telemetrytest.Install()

// spanContextOf parses a traceparent.
func spanContextOf(traceparent string) trace.SpanContext {
	return trace.SpanContextFromContext(telemetry.WithTraceparent(context.Background(), traceparent))
}

// writeTraced commits an event of topic in a trace of the test's own and returns its id
// and the row's traceparent (its outbox.write span).
func (b *testBundle) writeTraced(t *testing.T, topic, aggregate string) (uuid.UUID, string) {
	t.Helper()
	ctx, span := telemetry.Tracer.Start(context.Background(), "test request")
	defer span.End()
	id := uuid.New()
	if err := pgx.BeginFunc(ctx, b.db, func(tx pgx.Tx) error {
		return outbox.Write(ctx, tx, outbox.Event{ID: id, Topic: topic, Source: "test", AggregateID: aggregate, Data: testEvent{aggregate, 0}})
	}); err != nil {
		t.Fatal(err)
	}
	var tp *string
	if err := b.db.QueryRow(ctx, `SELECT traceparent FROM messaging.outbox WHERE id = $1`, id).Scan(&tp); err != nil || tp == nil {
		t.Fatalf("row traceparent %v, %v", tp, err)
	}
	if got := spanContextOf(*tp); got.TraceID() != span.SpanContext().TraceID() {
		t.Fatalf("row traceparent %s is not in the writer's trace %s", *tp, span.SpanContext().TraceID())
	}
	return id, *tp
}

// A published message carries its publish span, a producer span in the row's trace
// whose parent is the row's outbox.write span and which links the relay's claim; the
// published counter and the lag histogram count it under its topic.
func TestPublishContinuesTheRowsTrace(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	const topic = "product-created"
	topicAttr := attribute.String("topic", topic)
	publishedBefore := otelkit.Counter(t, "market.relay.published", topicAttr)
	lagBefore, _ := otelkit.Histogram(t, "market.relay.lag", topicAttr)

	id, rowTP := b.writeTraced(t, topic, "agg-1")
	plain := uuid.New() // written by Insert without a trace: its publish starts one
	if _, err := b.db.Exec(ctx, outbox.Insert+` VALUES ($1, $2, 'test', 'agg-2', '{}', NULL)`, plain, topic); err != nil {
		t.Fatal(err)
	}
	if _, err := b.db.Exec(ctx, `UPDATE messaging.outbox SET created_at = now() - interval '2 seconds'`); err != nil {
		t.Fatal(err)
	}
	if n, err := b.relay(Options{}).Drain(ctx); n != 2 || err != nil {
		t.Fatalf("Drain = %d, %v; want 2", n, err)
	}

	msgs := map[string]bus.Message{}
	for _, r := range b.consume(t, b.prefix+topic, 2) {
		m, err := bus.FromKafka(r)
		if err != nil {
			t.Fatal(err)
		}
		msgs[m.ID] = m
	}
	row := spanContextOf(rowTP)
	for _, tc := range []struct {
		id     uuid.UUID
		parent trace.SpanContext // invalid: a new trace
	}{{id, row}, {plain, trace.SpanContext{}}} {
		m := msgs[tc.id.String()]
		got := spanContextOf(m.Traceparent)
		if !got.IsValid() {
			t.Fatalf("message %s carries no traceparent (%q)", tc.id, m.Traceparent)
		}
		span, ok := otelkit.Span(got.SpanID())
		if !ok {
			t.Fatalf("message %s carries span %s, not an ended span of the relay", tc.id, got.SpanID())
		}
		if span.Name() != "publish "+b.prefix+topic || span.SpanKind() != trace.SpanKindProducer || span.Status().Code == codes.Error {
			t.Errorf("message %s carries span %q kind %v status %v, want publish <topic>, a producer span, ok", tc.id, span.Name(), span.SpanKind(), span.Status())
		}
		if tc.parent.IsValid() {
			if got.TraceID() != tc.parent.TraceID() || span.Parent().SpanID() != tc.parent.SpanID() {
				t.Errorf("publish span of %s: trace %s parent %s, want the row's trace %s and its write span %s",
					tc.id, got.TraceID(), span.Parent().SpanID(), tc.parent.TraceID(), tc.parent.SpanID())
			}
		} else if span.Parent().IsValid() {
			t.Errorf("publish span of %s has parent %s, want a new trace", tc.id, span.Parent().SpanID())
		}
		links := span.Links()
		if len(links) != 1 {
			t.Fatalf("publish span of %s has %d links, want the claim", tc.id, len(links))
		}
		claim, ok := otelkit.Span(links[0].SpanContext.SpanID())
		if !ok || claim.Name() != "relay.claim" {
			t.Fatalf("publish span of %s links %v, want the relay.claim span", tc.id, links[0].SpanContext.SpanID())
		}
		if rows, _ := attrValue(claim.Attributes(), "market.relay.rows_claimed"); rows != int64(2) {
			t.Errorf("claim span rows_claimed = %v, want 2", rows)
		}
	}

	if n := otelkit.Counter(t, "market.relay.published", topicAttr); n != publishedBefore+2 {
		t.Errorf("market.relay.published{topic=%s} went from %d to %d, want +2", topic, publishedBefore, n)
	}
	count, sum := otelkit.Histogram(t, "market.relay.lag", topicAttr)
	if count != lagBefore+2 || sum < 4 {
		t.Errorf("market.relay.lag{topic=%s}: count %d (before %d), sum %.3fs; want 2 more of 2s or more", topic, count, lagBefore, sum)
	}
}

func attrValue(kvs []attribute.KeyValue, key attribute.Key) (any, bool) {
	for _, kv := range kvs {
		if kv.Key == key {
			return kv.Value.AsInterface(), true
		}
	}
	return nil, false
}

// A refused publish counts as a failure of its topic; a row dead-lettered after
// MaxAttempts counts in market.deadletters{source=relay}, and the parked message carries
// its deadletter span, a child of the row's write span.
func TestFailuresAndDeadLetterAreCounted(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	const topic = "trade-created"
	topicAttr := attribute.String("topic", topic)
	failuresBefore := otelkit.Counter(t, "market.relay.publish.failures", topicAttr)
	deadBefore := otelkit.Counter(t, "market.deadletters", topicAttr, attribute.String("source", bus.DeadLetterRelay))
	publishedBefore := otelkit.Counter(t, "market.relay.published", topicAttr)

	id, rowTP := b.writeTraced(t, topic, "agg-x")
	b.failWhen(func(tp string) bool { return tp == b.prefix+topic })
	r := b.relay(Options{MaxAttempts: 3})
	testenv.Eventually(t, 20*time.Second, "the row failed", func() bool {
		_, _ = r.Drain(ctx)
		return b.row(t, id).status == "FAILED"
	})

	if n := otelkit.Counter(t, "market.relay.publish.failures", topicAttr); n != failuresBefore+3 {
		t.Errorf("market.relay.publish.failures{topic=%s} went from %d to %d, want +3 (MaxAttempts)", topic, failuresBefore, n)
	}
	if n := otelkit.Counter(t, "market.deadletters", topicAttr, attribute.String("source", bus.DeadLetterRelay)); n != deadBefore+1 {
		t.Errorf("market.deadletters{topic=%s,source=relay} went from %d to %d, want +1", topic, deadBefore, n)
	}
	if n := otelkit.Counter(t, "market.relay.published", topicAttr); n != publishedBefore {
		t.Errorf("market.relay.published{topic=%s} went from %d to %d, want unchanged", topic, publishedBefore, n)
	}
	// Each refused publish ended its span with an error.
	failedSpans := 0
	for _, s := range otelkit.Named("publish " + b.prefix + topic) {
		if s.SpanContext().TraceID() == spanContextOf(rowTP).TraceID() && s.Status().Code == codes.Error {
			failedSpans++
		}
	}
	if failedSpans != 3 {
		t.Errorf("%d failed publish spans in the row's trace, want 3", failedSpans)
	}

	m, err := bus.FromKafka(b.consume(t, b.prefix+topic+".dlt", 1)[0])
	if err != nil || m.ID != id.String() {
		t.Fatalf("dead letter %+v, %v", m, err)
	}
	span, ok := otelkit.Span(spanContextOf(m.Traceparent).SpanID())
	if !ok || span.Name() != "deadletter "+b.prefix+topic+".dlt" || span.Parent().SpanID() != spanContextOf(rowTP).SpanID() {
		t.Errorf("dead letter carries %q, want its deadletter span, a child of the row's %q", m.Traceparent, rowTP)
	}
}

// While Run runs, the backlog gauges observe the PENDING rows, counting at most every
// BacklogInterval; they are gone once it stopped.
func TestBacklogGauges(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	b.failWhen(func(string) bool { return true }) // everything stays PENDING
	b.write(t, aggregates(3), 2)
	if _, err := b.db.Exec(ctx, `UPDATE messaging.outbox SET created_at = now() - interval '90 seconds' WHERE aggregate_id = 'agg-000'`); err != nil {
		t.Fatal(err)
	}
	if _, ok := otelkit.Gauge(t, "market.outbox.backlog"); ok {
		t.Fatal("market.outbox.backlog observed with no relay running")
	}

	run := func(opts Options) (stop func()) {
		runCtx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		r := b.relay(opts)
		go func() { _ = r.Run(runCtx); close(done) }()
		return func() { cancel(); <-done }
	}
	// A count an hour old is still the one reported: the database is not asked again.
	stop := run(Options{MaxAttempts: 1000, BacklogInterval: time.Hour})
	testenv.Eventually(t, 10*time.Second, "the gauges observe 6 rows", func() bool {
		n, _ := otelkit.Gauge(t, "market.outbox.backlog")
		return n == 6
	})
	if age, _ := otelkit.Gauge(t, "market.outbox.oldest.age"); age < 90 || age > 120 {
		t.Errorf("market.outbox.oldest.age = %.1f, want about 90s", age)
	}
	b.write(t, aggregates(1), 1)
	if n, _ := otelkit.Gauge(t, "market.outbox.backlog"); n != 6 {
		t.Errorf("market.outbox.backlog = %v within BacklogInterval of the last count, want the cached 6", n)
	}
	stop()
	if _, ok := otelkit.Gauge(t, "market.outbox.backlog"); ok {
		t.Fatal("market.outbox.backlog still observed after Run returned")
	}

	// Counted again every interval: 7 rows, then none once the broker takes them.
	stop = run(Options{MaxAttempts: 1000, PollInterval: 20 * time.Millisecond, BacklogInterval: 10 * time.Millisecond})
	defer stop()
	testenv.Eventually(t, 10*time.Second, "the gauges observe 7 rows", func() bool {
		n, _ := otelkit.Gauge(t, "market.outbox.backlog")
		return n == 7
	})
	b.failWhen(nil)
	testenv.Eventually(t, 20*time.Second, "the gauges observe an empty outbox", func() bool {
		n, ok := otelkit.Gauge(t, "market.outbox.backlog")
		age, _ := otelkit.Gauge(t, "market.outbox.oldest.age")
		return ok && n == 0 && age == 0
	})
}

// The relay's own traceparent reading and writing agree with the propagator's.
func TestTraceparentFastPath(t *testing.T) {
	t.Parallel()
	for _, tp := range []string{
		"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
		"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00",
		"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-03", // flags beyond sampled
		"01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", // a later version
		"00-00000000000000000000000000000000-b7ad6b7169203331-01", // zero trace id
		"00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01", // zero span id
		"00-0af7651916cd43dd8448eb211c80319X-b7ad6b7169203331-01",
		"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-zz",
		"", "garbage",
	} {
		want := spanContextOf(tp)
		got := parseTraceparent(tp)
		if got.IsValid() != want.IsValid() || (want.IsValid() && !got.Equal(want)) {
			t.Errorf("parseTraceparent(%q) = %v, want %v", tp, got, want)
		}
		if f, w := formatTraceparent(got), telemetry.Traceparent(trace.ContextWithSpanContext(context.Background(), got)); f != w {
			t.Errorf("formatTraceparent(%v) = %q, want %q", got, f, w)
		}
	}
}
