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
// meter provider (telemetry.Start installs it): the messaging.kafka.* counters of
// connections, errors, bytes and records by broker and topic, counted per request and
// per batch. Its tracer is left out: a producer span per record costs about 5 µs of CPU
// per record even unsampled (a fifth of the relay's whole cost per row) and would
// duplicate the relay's publish span, which already covers a record from the publish to
// the broker's acknowledgement; the push bridge's deliver span covers the consuming side.
// NewKafka adds it; the push bridge's consumers add it themselves.
func KafkaTelemetry() kgo.Opt {
	return kgo.WithHooks(kotel.NewKotel(kotel.WithMeter(kotel.NewMeter())).Hooks()...)
}
