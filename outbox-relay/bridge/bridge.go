// Package bridge delivers events from the stream to consumer functions as binary-mode
// CloudEvents over HTTP, the way Pub/Sub push subscriptions and Eventarc do on GCP:
//
//   - Kafka: one consumer group per consumer function; an offset is committed only after
//     the function answered 2xx.
//   - Pub/Sub without push (the local emulator or pstest): one pull subscription per
//     consumer function; a message is acknowledged only after a 2xx.
//
// A delivery that keeps failing is retried with back-off; after MaxAttempts the event is
// parked on its topic's dead-letter topic and the partition or subscription moves on. A
// consumer function therefore sees each event at least once, in order per aggregate, and
// its inbox makes the effect exactly once.
package bridge

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/8949market/market/shared/bus"
	"github.com/8949market/market/shared/events"
	"github.com/8949market/market/shared/telemetry"
)

// Subscription is one consumer function and where to reach it.
type Subscription struct {
	Name  string // the consumer function's name; also its group or subscription id
	Topic string // the full topic name
	URL   string // where to POST the CloudEvent
	// Client, if set, makes this subscription's deliveries (for example with an ID token
	// whose audience is URL); otherwise Options.Client does.
	Client *http.Client
}

// The default retry policy is the push subscriptions' (Terraform var.delivery, and the
// BRIDGE_* settings' defaults): about 45 minutes of back-off before an event is
// dead-lettered, so a consumer that restarts or fails for minutes loses nothing.
const (
	DefaultMaxAttempts = 10
	DefaultBackoffBase = 10 * time.Second
	DefaultBackoffMax  = 600 * time.Second
)

// Options tune delivery; zero values take the defaults.
type Options struct {
	MaxAttempts int           // deliveries before dead-lettering (DefaultMaxAttempts)
	BackoffBase time.Duration // first retry delay (DefaultBackoffBase), doubling
	BackoffMax  time.Duration // cap of the retry delay (DefaultBackoffMax)
	Timeout     time.Duration // one delivery's HTTP timeout (default 30s)
	Client      *http.Client
	// KafkaOpts are added to every client of the Kafka bridge: the TLS and SASL options
	// of bus.KafkaAuth, so the bridge reaches the cluster the relay publishes to.
	KafkaOpts []kgo.Opt
}

func (o *Options) defaults() {
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = DefaultMaxAttempts
	}
	if o.BackoffBase <= 0 {
		o.BackoffBase = DefaultBackoffBase
	}
	if o.BackoffMax <= 0 {
		o.BackoffMax = DefaultBackoffMax
	}
	if o.Timeout <= 0 {
		o.Timeout = 30 * time.Second
	}
	if o.Client == nil {
		o.Client = &http.Client{Timeout: o.Timeout}
	}
}

// deliver hands m to sub, retrying with back-off. It returns an error when every attempt
// failed (the caller dead-letters) or ctx ended (the caller leaves the event unacknowledged).
func deliver(ctx context.Context, o Options, sub Subscription, m bus.Message) error {
	client := o.Client
	if sub.Client != nil {
		client = sub.Client
	}
	delay := o.BackoffBase
	var err error
	for attempt := 1; attempt <= o.MaxAttempts; attempt++ {
		if err = deliverOnce(ctx, client, sub, m, attempt); err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		slog.WarnContext(ctx, "delivery failed", "consumer", sub.Name, "eventId", m.ID, "type", m.Type,
			"attempt", attempt, "error", err.Error())
		if attempt == o.MaxAttempts {
			break
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(delay):
		}
		delay = min(delay*2, o.BackoffMax)
	}
	return fmt.Errorf("%d deliveries failed, last: %w", o.MaxAttempts, err)
}

// deliverOnce is one delivery of m to sub under a client span, deliver <consumer>: a child
// of the event's trace (its traceparent), and what the delivery carries, so the consumer's
// spans are its children.
func deliverOnce(ctx context.Context, client *http.Client, sub Subscription, m bus.Message, attempt int) (err error) {
	ctx, span := telemetry.Tracer.Start(telemetry.WithTraceparent(ctx, m.Traceparent), "deliver "+sub.Name,
		trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(
			attribute.String("market.consumer", sub.Name),
			attribute.String("messaging.message.id", m.ID),
			attribute.String("messaging.destination.name", m.Type),
			attribute.Int("market.delivery.attempt", attempt)))
	defer func() { telemetry.End(span, err) }()
	return bus.Deliver(ctx, client, sub.URL, m)
}

// park publishes m to its topic's dead-letter topic, retrying until it succeeds or ctx
// ends: the event must not be acknowledged before it is parked somewhere. Each attempt is
// a producer span, deadletter <topic>, in the event's trace; the parked message continues
// from it.
func park(ctx context.Context, pub bus.Publisher, sub Subscription, m bus.Message, reason error) error {
	event := m.Traceparent
	m.Topic = sub.Topic + events.DeadLetterSuffix
	m.Reason = fmt.Sprintf("consumer %s: %v", sub.Name, reason)
	delay := 100 * time.Millisecond
	for {
		sctx, span := telemetry.Tracer.Start(telemetry.WithTraceparent(ctx, event), "deadletter "+m.Topic,
			trace.WithSpanKind(trace.SpanKindProducer), trace.WithAttributes(
				attribute.String("market.consumer", sub.Name),
				attribute.String("messaging.operation.type", "send"),
				attribute.String("messaging.message.id", m.ID),
				attribute.String("messaging.destination.name", m.Topic)))
		m.Traceparent = telemetry.Traceparent(sctx)
		err := pub.Publish(sctx, []bus.Message{m})[0]
		telemetry.End(span, err)
		if err == nil {
			bus.CountDeadLetter(ctx, m.Type, bus.DeadLetterBridge)
			slog.ErrorContext(ctx, "event dead-lettered", "consumer", sub.Name, "eventId", m.ID,
				"type", m.Type, "deadLetterTopic", m.Topic, "reason", m.Reason)
			return nil
		}
		slog.ErrorContext(ctx, "dead-letter publish failed; retrying", "consumer", sub.Name, "eventId", m.ID, "error", err.Error())
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(delay):
		}
		delay = min(delay*2, 5*time.Second)
	}
}
