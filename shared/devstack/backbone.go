package devstack

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"cloud.google.com/go/pubsub/v2/pstest"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	relay "github.com/8949market/market/outbox-relay"
	"github.com/8949market/market/outbox-relay/bridge"
	"github.com/8949market/market/outbox-relay/deadletter"
	"github.com/8949market/market/shared/bus"
	"github.com/8949market/market/shared/config"
	"github.com/8949market/market/shared/events"
	"github.com/8949market/market/shared/registry"
)

// backbone is the stream of the dev stack: a real broker when configured, else an
// in-process stand-in, plus the relay and the delivery to consumer functions.
type backbone struct {
	name  string
	pub   bus.Publisher
	relay *relay.Relay
	db    *pgxpool.Pool
	run   func(context.Context) error // delivery to consumers
	// ensureSubs creates the consumers' subscriptions before the relay publishes anything
	// (Pub/Sub delivers only what was published after a subscription existed).
	ensureSubs func(context.Context) error
	caughtUp   func(ctx context.Context, since time.Time) (bool, error)
	closeFake  func()
}

// newBackbone connects (or starts) the configured backbone and creates the topics.
// endpoint names where each consumer is delivered to, credential included.
func newBackbone(ctx context.Context, cfg config.Config, db *pgxpool.Pool, endpoint func(name string) string) (*backbone, error) {
	topics := relay.Topics(cfg.TopicPrefix, events.Topics())
	var subs []bridge.Subscription
	consumers := relay.Consumers{}
	for _, f := range registry.All() {
		if f.Kind == registry.KindEvent {
			subs = append(subs, bridge.Subscription{Name: f.Name, Topic: cfg.TopicPrefix + f.Topic, URL: endpoint(f.Name)})
			consumers[f.Topic] = append(consumers[f.Topic], f.Name)
		}
	}
	b := &backbone{name: cfg.Backbone, db: db, closeFake: func() {}}
	switch cfg.Backbone {
	case "kafka":
		brokers := cfg.KafkaBrokers
		where := "KAFKA_BROKERS"
		var auth []kgo.Opt // the embedded cluster needs none
		if len(brokers) > 0 {
			var err error
			if auth, err = bus.KafkaAuth(ctx, cfg); err != nil {
				return nil, err
			}
		} else {
			fake, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.AllowAutoTopicCreation(),
				kfake.DefaultNumPartitions(bus.KafkaPartitions))
			if err != nil {
				return nil, fmt.Errorf("embedded kafka: %w", err)
			}
			brokers, where = fake.ListenAddrs(), "embedded kfake"
			b.closeFake = fake.Close
		}
		k, err := bus.NewKafka(brokers, auth...)
		if err != nil {
			b.closeFake()
			return nil, err
		}
		b.pub = k
		kb := bridge.NewKafka(brokers, cfg.TopicPrefix, subs, k, devDelivery(bridge.Options{KafkaOpts: auth}))
		b.run = kb.Run
		b.caughtUp = func(ctx context.Context, _ time.Time) (bool, error) {
			lag, err := kb.Lag(ctx)
			return lag == 0, err
		}
		slog.InfoContext(ctx, "backbone ready", "backbone", "kafka", "brokers", brokers, "source", where)
	case "pubsub":
		host, where := cfg.PubSubEmulatorHost, "PUBSUB_EMULATOR_HOST"
		if host == "" {
			srv := pstest.NewServer()
			host, where = srv.Addr, "in-process pstest"
			b.closeFake = func() { _ = srv.Close() }
		}
		ps, err := bus.NewPubSub(ctx, cfg.PubSubProject, host)
		if err != nil {
			b.closeFake()
			return nil, err
		}
		b.pub = ps
		pb := bridge.NewPubSub(ps, cfg.TopicPrefix, subs, devDelivery(bridge.Options{}))
		b.run = pb.Run
		b.ensureSubs = func(ctx context.Context) error {
			if err := pb.EnsureSubscriptions(ctx); err != nil {
				return err
			}
			// A topic without a subscription drops what it is sent: hold the dead letters,
			// as Terraform does, so cmd/deadletters finds them on an emulator.
			for _, t := range events.Topics() {
				dlt := cfg.TopicPrefix + t + events.DeadLetterSuffix
				if err := deadletter.EnsureHold(ctx, ps, dlt); err != nil {
					return err
				}
			}
			return nil
		}
		// Pub/Sub has no lag to ask for here: quiet for a while after the last publish
		// and nothing in flight is as good as it gets.
		b.caughtUp = func(_ context.Context, since time.Time) (bool, error) {
			return pb.Idle(since, 300*time.Millisecond), nil
		}
		slog.InfoContext(ctx, "backbone ready", "backbone", "pubsub", "host", host, "project", cfg.PubSubProject, "source", where)
	default:
		return nil, fmt.Errorf("unknown backbone %q", cfg.Backbone)
	}
	if err := b.pub.EnsureTopics(ctx, topics); err != nil {
		b.close()
		return nil, err
	}
	if b.ensureSubs != nil {
		if err := b.ensureSubs(ctx); err != nil {
			b.close()
			return nil, err
		}
	}
	b.relay = relay.New(db, b.pub, relay.Options{TopicPrefix: cfg.TopicPrefix, PollInterval: 500 * time.Millisecond, Consumers: consumers})
	return b, nil
}

// devDelivery is the dev stack's retry policy: a handful of quick retries, so a poison
// event reaches its dead-letter topic in seconds instead of the deployed policy's
// minutes (BRIDGE_MAX_ATTEMPTS and the back-off settings are the relay service's).
func devDelivery(o bridge.Options) bridge.Options {
	o.MaxAttempts, o.BackoffBase, o.BackoffMax = 5, 100*time.Millisecond, 5*time.Second
	return o
}

// settle publishes whatever the outbox holds and waits until every consumer has it.
func (b *backbone) settle(ctx context.Context) error {
	// A consumer may write events of its own (trade-created opens a chat room, which
	// announces chat-room-created) while a round runs, and the running relay may publish
	// them before "nothing pending" is asked: settle again until a round in which no event
	// was written at all. A consumer writes its events before it answers, so once the
	// consumers have caught up, every event of the round is counted.
	for {
		before, err := b.written(ctx)
		if err != nil {
			return err
		}
		if err := b.settleOnce(ctx); err != nil {
			return err
		}
		after, err := b.written(ctx)
		if err != nil || after == before {
			return err
		}
	}
}

// written counts the outbox rows ever written (tests never prune them).
func (b *backbone) written(ctx context.Context) (int64, error) {
	var n int64
	if err := b.db.QueryRow(ctx, `SELECT count(*) FROM messaging.outbox`).Scan(&n); err != nil {
		return 0, fmt.Errorf("settle: %w", err)
	}
	return n, nil
}

func (b *backbone) pending(ctx context.Context) (bool, error) {
	var pending bool
	if err := b.db.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM messaging.outbox WHERE status = 'PENDING')`).Scan(&pending); err != nil {
		return false, fmt.Errorf("settle: %w", err)
	}
	return pending, nil
}

func (b *backbone) settleOnce(ctx context.Context) error {
	// Drain publishes what nobody holds; rows the running relay has claimed are on their
	// way, so also wait until no row is pending at all before asking the consumers.
	for {
		if _, err := b.relay.Drain(ctx); err != nil {
			return err
		}
		pending, err := b.pending(ctx)
		if err != nil {
			return err
		}
		if !pending {
			break
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
	since := time.Now()
	for {
		done, err := b.caughtUp(ctx, since)
		if err == nil && done {
			return nil
		}
		select {
		case <-ctx.Done():
			return errors.Join(ctx.Err(), err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func (b *backbone) close() {
	if err := b.pub.Close(); err != nil {
		slog.Warn("close publisher", "error", err.Error())
	}
	b.closeFake()
}
