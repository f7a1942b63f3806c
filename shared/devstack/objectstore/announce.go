package objectstore

import (
	"context"
	"fmt"
	"time"

	"github.com/8949market/market/shared/bus"
	"github.com/8949market/market/shared/config"
	"github.com/8949market/market/shared/events"
	"github.com/8949market/market/shared/objectevent"
)

// Announcer is the Notify of a local stack: it publishes each finished upload to
// prefix+upload-finalized as Cloud Storage notifies it. On Pub/Sub: its own attributes
// and data, which a push subscription (or the dev stack's delivery) hands to the consumer
// as on GCP. On Kafka, which Cloud Storage cannot notify: the CloudEvent the notification
// stands for.
func Announcer(pub bus.Publisher, prefix string) func(context.Context, objectevent.Object) error {
	topic := prefix + events.UploadFinalized
	return func(ctx context.Context, o objectevent.Object) error {
		attrs, data, err := objectevent.Attributes(o, time.Now())
		if err != nil {
			return err
		}
		if ps, ok := pub.(*bus.PubSub); ok {
			return ps.PublishNotice(ctx, topic, attrs, data)
		}
		e, _, err := objectevent.Event(func(name string) string { return attrs[name] }, data)
		if err != nil {
			return err
		}
		return pub.Publish(ctx, []bus.Message{bus.FromEvent(topic, e)})[0]
	}
}

// Publisher connects to the backbone cfg names (BACKBONE with PUBSUB_EMULATOR_HOST or
// KAFKA_BROKERS), for a stand-in running apart from a dev stack.
func Publisher(ctx context.Context, cfg config.Config) (bus.Publisher, error) {
	switch cfg.Backbone {
	case "pubsub":
		return bus.NewPubSub(ctx, cfg.PubSubProject, cfg.PubSubEmulatorHost)
	case "kafka":
		if len(cfg.KafkaBrokers) == 0 {
			return nil, fmt.Errorf("the storage stand-in needs KAFKA_BROKERS")
		}
		auth, err := bus.KafkaAuth(ctx, cfg)
		if err != nil {
			return nil, err
		}
		return bus.NewKafka(cfg.KafkaBrokers, auth...)
	default:
		return nil, fmt.Errorf("backbone %q", cfg.Backbone)
	}
}
