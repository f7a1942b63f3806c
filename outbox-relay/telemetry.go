package relay

import (
	"context"
	"encoding/hex"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/8949market/market/shared/telemetry"
)

// The relay's metrics (infra/dashboards' catalogue). topic is the catalogue name, without
// the environment prefix.
var (
	published = telemetry.Counter("market.relay.published", "{event}",
		"Outbox rows published and acknowledged by the broker, by topic.")
	publishFailures = telemetry.Counter("market.relay.publish.failures", "{event}",
		"Failed publishes of outbox rows (each is retried, or dead-lettered after MaxAttempts), by topic.")
	lag = telemetry.Seconds("market.relay.lag",
		"From an outbox row's commit (created_at) to the broker's acknowledgement of its publish, by topic.")
	backlog = must(telemetry.Meter.Int64ObservableGauge("market.outbox.backlog", metric.WithUnit("{event}"),
		metric.WithDescription("PENDING outbox rows, as the relay last counted them (every BacklogInterval at most).")))
	oldestAge = must(telemetry.Meter.Float64ObservableGauge("market.outbox.oldest.age", metric.WithUnit("s"),
		metric.WithDescription("Age of the oldest PENDING outbox row (0 without one), as the relay last looked (every BacklogInterval at most).")))
)

func must[T any](v T, err error) T {
	if err != nil {
		panic(fmt.Sprintf("relay: instrument: %v", err))
	}
	return v
}

// topicAttrs caches the attribute option of each topic: the relay records per row.
var topicAttrs sync.Map // string -> metric.MeasurementOption

func topicAttr(topic string) metric.MeasurementOption {
	if o, ok := topicAttrs.Load(topic); ok {
		return o.(metric.MeasurementOption)
	}
	o, _ := topicAttrs.LoadOrStore(topic, metric.WithAttributeSet(attribute.NewSet(attribute.String("topic", topic))))
	return o.(metric.MeasurementOption)
}

// startRowSpan starts the producer span of one publish of rw (publish, deadletter or
// redeliver, on topic): a child of the row's outbox.write span (its traceparent; a new
// trace without one) that links the relay's pass (claim or reconcile). The message then
// carries it (traceparent), so every consumer continues from it. It runs per row: the
// attributes and the link are only made for a span that is recorded (sampled).
func startRowSpan(ctx context.Context, op string, rw row, topic string, pass trace.SpanContext) (span trace.Span, traceparent string) {
	var parent trace.SpanContext // none: a new trace, not the pass's
	if rw.traceparent != nil {
		parent = parseTraceparent(*rw.traceparent)
	}
	ctx = trace.ContextWithRemoteSpanContext(ctx, parent)
	_, span = telemetry.Tracer.Start(ctx, op+" "+topic, trace.WithSpanKind(trace.SpanKindProducer))
	if span.IsRecording() {
		span.SetAttributes(
			attribute.String("messaging.operation.type", "send"),
			attribute.String("messaging.destination.name", topic),
			attribute.String("messaging.message.id", rw.id.String()),
			attribute.String("market.aggregate_id", rw.aggregateID))
		if pass.IsValid() {
			span.AddLink(trace.Link{SpanContext: pass})
		}
	}
	return span, formatTraceparent(span.SpanContext())
}

// parseTraceparent reads a W3C traceparent as the outbox stores it (version 00, what
// telemetry.Traceparent writes) without the propagator's carrier, which costs a
// microsecond per row; another version goes through the propagator. An invalid value
// gives an invalid span context (no parent).
func parseTraceparent(tp string) trace.SpanContext {
	if len(tp) != 55 || tp[:3] != "00-" || tp[35] != '-' || tp[52] != '-' {
		return trace.SpanContextFromContext(telemetry.WithTraceparent(context.Background(), tp))
	}
	tid, err := trace.TraceIDFromHex(tp[3:35])
	if err != nil {
		return trace.SpanContext{}
	}
	sid, err := trace.SpanIDFromHex(tp[36:52])
	if err != nil {
		return trace.SpanContext{}
	}
	var flags [1]byte
	if _, err := hex.Decode(flags[:], []byte(tp[53:55])); err != nil {
		return trace.SpanContext{}
	}
	return trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: sid,
		TraceFlags: trace.TraceFlags(flags[0]), Remote: true})
}

// formatTraceparent writes sc as a W3C traceparent, as telemetry.Traceparent does ("" for
// an invalid one).
func formatTraceparent(sc trace.SpanContext) string {
	if !sc.IsValid() {
		return ""
	}
	var b [55]byte
	copy(b[:3], "00-")
	tid, sid := sc.TraceID(), sc.SpanID()
	hex.Encode(b[3:35], tid[:])
	b[35] = '-'
	hex.Encode(b[36:52], sid[:])
	b[52] = '-'
	hex.Encode(b[53:55], []byte{byte(sc.TraceFlags())})
	return string(b[:])
}

// backlogObserver reports the outbox backlog, querying the database at most every
// interval whatever the collection rate.
type backlogObserver struct {
	r        *Relay
	interval time.Duration

	mu      sync.Mutex
	at      time.Time // of the last query; zero before the first
	pending int64
	age     float64
	known   bool // the last query succeeded
}

// observe is the gauges' callback.
func (b *backlogObserver) observe(ctx context.Context, o metric.Observer) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.at.IsZero() || time.Since(b.at) >= b.interval {
		b.at = time.Now()
		qctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		pending, age, err := b.r.backlog(qctx)
		cancel()
		if err != nil {
			// No point rather than a stale one: the alert on a missing age fires.
			b.known = false
			slog.WarnContext(ctx, "outbox backlog not observed", "error", err.Error())
		} else {
			b.pending, b.age, b.known = pending, age, true
		}
	}
	if b.known {
		o.ObserveInt64(backlog, b.pending)
		o.ObserveFloat64(oldestAge, b.age)
	}
	return nil
}

// backlog counts the PENDING rows and the age of the first of them (in write order, by
// the database's clock): two scans of the pending rows' partial index.
func (r *Relay) backlog(ctx context.Context) (pending int64, age float64, err error) {
	err = r.db.QueryRow(ctx, `
		SELECT (SELECT count(*) FROM messaging.outbox WHERE status = 'PENDING'),
		       coalesce((SELECT extract(epoch FROM now() - created_at)::float8 FROM messaging.outbox
		                  WHERE status = 'PENDING' ORDER BY seq LIMIT 1), 0)`).Scan(&pending, &age)
	if err != nil {
		return 0, 0, fmt.Errorf("outbox backlog: %w", err)
	}
	return pending, max(age, 0), nil
}

// observeBacklog registers the backlog gauges' callback until the returned function is
// called.
func (r *Relay) observeBacklog() (stop func()) {
	b := &backlogObserver{r: r, interval: r.opts.BacklogInterval}
	reg, err := telemetry.Meter.RegisterCallback(b.observe, backlog, oldestAge)
	if err != nil {
		slog.Warn("outbox backlog gauges not registered", "error", err.Error())
		return func() {}
	}
	return func() {
		if err := reg.Unregister(); err != nil {
			slog.Warn("outbox backlog gauges not unregistered", "error", err.Error())
		}
	}
}
