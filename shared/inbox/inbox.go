// Package inbox is the one shape of an event consumer: Handle decodes the event's data
// once into its type, records (consumer, event id) in the same transaction as the effect,
// so a redelivered event, or the same event delivered several times at once, has exactly
// one effect, and runs what must follow the commit (OnCommit) after it.
//
//	func New(kit *platform.Kit) registry.EventHandler {
//		return inbox.Handle(kit.DB, name, trades.Open) // func(ctx, tx, events.ReservationData) error
//	}
package inbox

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/8949market/market/shared/fault"
	"github.com/8949market/market/shared/telemetry"
)

// Handler applies one event's effect inside tx.
type Handler func(ctx context.Context, tx pgx.Tx, e cloudevents.Event) error

// Consume returns an event handler that runs h at most once per event id for consumer.
// The inbox row and h's effect commit together: if h fails, neither is kept and the event
// is retried. A concurrent duplicate waits for the first delivery's transaction and then
// does nothing.
func Consume(db *pgxpool.Pool, consumer string, h Handler) func(context.Context, cloudevents.Event) error {
	return func(ctx context.Context, e cloudevents.Event) (err error) {
		ctx, span := startSpan(ctx, consumer, e)
		outcome := "applied"
		defer func() {
			if err != nil && outcome == "applied" {
				outcome = "failed"
			}
			consumed.Add(ctx, 1, metric.WithAttributes(attribute.String("consumer", consumer), attribute.String("outcome", outcome)))
			span.SetAttributes(attribute.String("market.outcome", outcome))
			telemetry.End(span, err)
		}()
		id, err := uuid.Parse(e.ID())
		if err != nil {
			// The event's fault, not the consumer's: a 4xx, so it is dead-lettered.
			outcome = "malformed"
			return fmt.Errorf("%s: %w", consumer,
				fault.ErrMalformedEvent.WithMessage("event id %q is not a UUID", e.ID()).OnField("id").Wrap(err))
		}
		duplicate := false
		err = pgx.BeginFunc(ctx, db, func(tx pgx.Tx) error {
			tag, err := tx.Exec(ctx, `
				INSERT INTO messaging.inbox (consumer, event_id, topic) VALUES ($1, $2, $3)
				ON CONFLICT DO NOTHING`, consumer, id, e.Type())
			if err != nil {
				return fmt.Errorf("record inbox: %w", err)
			}
			if tag.RowsAffected() == 0 {
				duplicate = true
				return nil
			}
			return h(ctx, tx, e)
		})
		if err != nil {
			return fmt.Errorf("%s: event %s (%s): %w", consumer, e.ID(), e.Type(), err)
		}
		if duplicate {
			outcome = "duplicate"
			slog.DebugContext(ctx, "duplicate event skipped", "consumer", consumer, "eventId", e.ID(), "type", e.Type())
			return nil
		}
		if !e.Time().IsZero() {
			lag.Record(ctx, time.Since(e.Time()).Seconds(), metric.WithAttributes(attribute.String("consumer", consumer)))
		}
		return nil
	}
}

var (
	consumed = telemetry.Counter("market.consumer.events", "{event}",
		"Events a consumer was handed, by outcome: applied, duplicate (already applied), failed (retried), malformed (dead-lettered).")
	lag = telemetry.Seconds("market.consumer.lag",
		"From the event's time (its outbox row's creation) to its effect committed by the consumer.")
)

// startSpan starts the consumer's span. The delivery's server span continues the event's
// trace when the event's traceparent came as a header (the push bridge, Pub/Sub push with
// ce- attributes); otherwise the consumer's span is the event trace's child and links the
// delivery.
func startSpan(ctx context.Context, consumer string, e cloudevents.Event) (context.Context, trace.Span) {
	opts := []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindConsumer), trace.WithAttributes(
		attribute.String("market.consumer", consumer), attribute.String("messaging.message.id", e.ID()),
		attribute.String("messaging.destination.name", e.Type()))}
	if tp, ok := e.Extensions()["traceparent"].(string); ok {
		parent := trace.SpanContextFromContext(telemetry.WithTraceparent(context.Background(), tp))
		if parent.IsValid() && parent.TraceID() != trace.SpanContextFromContext(ctx).TraceID() {
			opts = append(opts, trace.WithLinks(trace.LinkFromContext(ctx)))
			ctx = trace.ContextWithRemoteSpanContext(ctx, parent)
		}
	}
	return telemetry.Tracer.Start(ctx, "consume "+consumer, opts...)
}

// Prune deletes inbox rows older than retention, in batches, and returns how many. A
// redelivery older than the retention would be applied again, so retention must exceed
// the longest redelivery window of the stream (Pub/Sub keeps messages 7 days at most).
func Prune(ctx context.Context, db *pgxpool.Pool, retention time.Duration) (int64, error) {
	var total int64
	for {
		tag, err := db.Exec(ctx, `
			DELETE FROM messaging.inbox
			 WHERE ctid IN (SELECT ctid FROM messaging.inbox
			                 WHERE processed_at < now() - make_interval(secs => $1)
			                 LIMIT 5000)`, retention.Seconds())
		if err != nil {
			return total, fmt.Errorf("prune inbox: %w", err)
		}
		total += tag.RowsAffected()
		if tag.RowsAffected() < 5000 {
			return total, nil
		}
	}
}

// Effect applies one event's data inside tx.
type Effect[T any] func(ctx context.Context, tx pgx.Tx, data T) error

// Handle returns the consumer named consumer: it decodes the event's data as T (data that
// does not fit is the event's fault: 400 C017, dead-lettered), then runs effect at most
// once per event id, in the transaction that records it (Consume). Functions registered
// with OnCommit during the effect run after the commit, in order; their errors are
// logged, not returned, as the event is already applied.
func Handle[T any](db *pgxpool.Pool, consumer string, effect Effect[T]) func(context.Context, cloudevents.Event) error {
	return func(ctx context.Context, e cloudevents.Event) error {
		var data T
		if err := json.Unmarshal(e.Data(), &data); err != nil {
			consumed.Add(ctx, 1, metric.WithAttributes(attribute.String("consumer", consumer), attribute.String("outcome", "malformed")))
			return fmt.Errorf("%s: %w", consumer,
				fault.ErrMalformedEvent.WithMessage("%s data does not fit the event: %v", e.Type(), err).OnField("data").Wrap(err))
		}
		after := &commitHooks{}
		ctx = context.WithValue(ctx, commitKey{}, after)
		err := Consume(db, consumer, func(ctx context.Context, tx pgx.Tx, _ cloudevents.Event) error {
			after.fns = after.fns[:0] // a retried transaction registers again
			return effect(ctx, tx, data)
		})(ctx, e)
		if err != nil {
			return err
		}
		for _, fn := range after.fns {
			if err := fn(ctx); err != nil {
				slog.WarnContext(ctx, "after-commit step of a consumer failed", "consumer", consumer, "eventId", e.ID(), "type", e.Type(), "error", err.Error())
			}
		}
		return nil
	}
}

type commitKey struct{}

type commitHooks struct{ fns []func(context.Context) error }

// OnCommit registers fn to run once the effect calling it has committed: telling live
// connections, dropping a cache. It does nothing outside Handle's effect. A duplicate
// delivery runs no effect, so registers nothing.
func OnCommit(ctx context.Context, fn func(context.Context) error) {
	if h, ok := ctx.Value(commitKey{}).(*commitHooks); ok {
		h.fns = append(h.fns, fn)
	}
}
