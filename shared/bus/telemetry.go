package bus

import (
	"context"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/plugin/kotel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/8949market/market/shared/telemetry"
)

// Where an event was dead-lettered (parked on its dead-letter topic, or given up): the
// source attribute of market.deadletters.
const (
	DeadLetterRelay     = "relay"     // the relay could not publish it (MaxAttempts)
	DeadLetterBridge    = "bridge"    // the push bridge could not deliver it
	DeadLetterReconcile = "reconcile" // a consumer never recorded it after every redelivery
)

var deadLetters = telemetry.Counter("market.deadletters", "{event}",
	"Events parked on a dead-letter topic or given up, by topic (the catalogue name) and source (relay, bridge, reconcile).")

// CountDeadLetter counts one event of topic (the catalogue name, without prefix)
// dead-lettered by source (DeadLetterRelay, DeadLetterBridge, DeadLetterReconcile).
func CountDeadLetter(ctx context.Context, topic, source string) {
	deadLetters.Add(ctx, 1, metric.WithAttributes(attribute.String("topic", topic), attribute.String("source", source)))
}

// KafkaTelemetry is franz-go's OpenTelemetry plugin (kotel) on a client, with the global
// tracer and meter providers (telemetry.Start installs them): a producer span per record
// from buffered to acknowledged, a receive span per fetched record, and the
// messaging.kafka.* connection, byte and record counters. group names a consumer group
// on its spans ("" for a producer). NewKafka adds it; the push bridge's and the
// dead-letter desk's clients add it themselves.
func KafkaTelemetry(group string) kgo.Opt {
	var topts []kotel.TracerOpt
	if group != "" {
		topts = append(topts, kotel.ConsumerGroup(group))
	}
	k := kotel.NewKotel(kotel.WithTracer(kotel.NewTracer(topts...)), kotel.WithMeter(kotel.NewMeter()))
	return kgo.WithHooks(k.Hooks()...)
}
