// Command outbox-relay is the relay service (Cloud Run, min 1 instance, no public
// ingress): it publishes the outbox to the configured backbone and, on Kafka, runs the
// push bridge that delivers records to the consumer functions named in BRIDGE_TARGETS.
// It answers GET /healthz on PORT for the platform's probes.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"

	"github.com/twmb/franz-go/pkg/kgo"
	"golang.org/x/sync/errgroup"
	"google.golang.org/api/idtoken"

	_ "github.com/8949market/market/functions/all" // the registry names the consumers
	relay "github.com/8949market/market/outbox-relay"
	"github.com/8949market/market/outbox-relay/bridge"
	"github.com/8949market/market/shared/bus"
	"github.com/8949market/market/shared/config"
	"github.com/8949market/market/shared/events"
	"github.com/8949market/market/shared/postgres"
	"github.com/8949market/market/shared/registry"
	"github.com/8949market/market/shared/serve"
	"github.com/8949market/market/shared/telemetry"
)

func main() {
	if err := run(); err != nil {
		slog.Error("outbox-relay stopped", "error", err.Error())
		os.Exit(1)
	}
}

func run() error {
	cfg, err := config.Load()
	if err != nil {
		return err
	}
	telemetry.Setup(cfg)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	db, err := postgres.Connect(ctx, cfg.DatabaseURL, 4)
	if err != nil {
		return err
	}
	defer db.Close()

	var pub bus.Publisher
	var kafkaOpts []kgo.Opt // TLS and SASL, shared by the producer and the bridge
	switch cfg.Backbone {
	case "kafka":
		if len(cfg.KafkaBrokers) == 0 {
			return fmt.Errorf("KAFKA_BROKERS is required with BACKBONE=kafka")
		}
		if kafkaOpts, err = bus.KafkaAuth(ctx, cfg); err != nil {
			return err
		}
		if pub, err = bus.NewKafka(cfg.KafkaBrokers, kafkaOpts...); err != nil {
			return err
		}
	case "pubsub":
		if pub, err = bus.NewPubSub(ctx, cfg.PubSubProject, cfg.PubSubEmulatorHost); err != nil {
			return err
		}
	}
	defer pub.Close()
	if err := pub.EnsureTopics(ctx, relay.Topics(cfg.TopicPrefix, events.Topics())); err != nil {
		return err
	}
	slog.Info("outbox relay starting", "backbone", cfg.Backbone, "database", config.Redact(cfg.DatabaseURL), "topicPrefix", cfg.TopicPrefix,
		"kafkaTLS", cfg.KafkaTLS, "kafkaSASL", cfg.KafkaSASL)

	health, err := serve.Listen(":"+strconv.Itoa(cfg.Port), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := db.Ping(r.Context()); err != nil {
			http.Error(w, "database unreachable", http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ok\n"))
	}))
	if err != nil {
		return err
	}
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return health.Run(gctx, cfg.ShutdownTimeout) })
	g.Go(func() error {
		return relay.New(db, pub, relay.Options{TopicPrefix: cfg.TopicPrefix, BatchSize: cfg.RelayBatchSize}).Run(gctx)
	})
	if cfg.Backbone == "kafka" {
		subs, err := bridgeTargets(ctx, cfg)
		if err != nil {
			return err
		}
		g.Go(func() error {
			return bridge.NewKafka(cfg.KafkaBrokers, cfg.TopicPrefix, subs, pub, bridge.Options{KafkaOpts: kafkaOpts}).Run(gctx)
		})
	}
	return g.Wait()
}

// bridgeTargets pairs every consumer function of the registry with its URL from
// BRIDGE_TARGETS; a consumer without a URL is a configuration error, not a silent gap.
// With BRIDGE_AUTH=oidc each consumer is called with a Google ID token whose audience is
// its URL, as private Cloud Run services require.
func bridgeTargets(ctx context.Context, cfg config.Config) ([]bridge.Subscription, error) {
	urls := map[string]string{}
	if cfg.BridgeTargets != "" {
		if err := json.Unmarshal([]byte(cfg.BridgeTargets), &urls); err != nil {
			return nil, fmt.Errorf("BRIDGE_TARGETS: %w", err)
		}
	}
	var subs []bridge.Subscription
	for _, f := range registry.All() {
		if f.Kind != registry.KindEvent {
			continue
		}
		u, ok := urls[f.Name]
		if !ok {
			return nil, fmt.Errorf("BRIDGE_TARGETS has no URL for consumer %s", f.Name)
		}
		sub := bridge.Subscription{Name: f.Name, Topic: cfg.TopicPrefix + f.Topic, URL: u}
		if cfg.BridgeAuth == "oidc" {
			c, err := idtoken.NewClient(ctx, u)
			if err != nil {
				return nil, fmt.Errorf("oidc client for %s: %w", f.Name, err)
			}
			sub.Client = c
		}
		subs = append(subs, sub)
	}
	return subs, nil
}
