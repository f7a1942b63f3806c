// Command outbox-relay is the relay service (Cloud Run, min 1 instance, no public
// ingress): it publishes the outbox to the configured backbone, publishes again what a
// consumer has not recorded (relay.Reconcile, against the consumers of the manifest
// embedded at build time) and, on Kafka, runs the push bridge that delivers records to
// the consumer functions BRIDGE_TARGETS names, with the credential BRIDGE_AUTH says. It
// links no function: the targets are configuration (Terraform writes them from the
// manifest). It answers GET /healthz on PORT for the platform's probes.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"syscall"

	"github.com/twmb/franz-go/pkg/kgo"
	"golang.org/x/sync/errgroup"
	"google.golang.org/api/idtoken"

	"github.com/8949market/market/infra/terraform"
	relay "github.com/8949market/market/outbox-relay"
	"github.com/8949market/market/outbox-relay/bridge"
	"github.com/8949market/market/shared/bus"
	"github.com/8949market/market/shared/config"
	"github.com/8949market/market/shared/events"
	"github.com/8949market/market/shared/postgres"
	"github.com/8949market/market/shared/pushauth"
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
	tel, err := telemetry.Start(ctx, telemetry.Options{Service: "outbox-relay"})
	if err != nil {
		return err
	}
	defer tel.Flush()

	var subs []bridge.Subscription
	if cfg.Backbone == "kafka" {
		// Before connecting anything: a bridge that cannot reach its consumers must not start.
		if subs, err = bridgeSubscriptions(ctx, cfg); err != nil {
			return err
		}
	}
	// The consumers the relay reconciles against: what Terraform subscribes, from the
	// manifest of this build.
	consumers, err := relay.ConsumersFromManifest(terraform.Manifest)
	if err != nil {
		return err
	}
	db, err := postgres.Connect(ctx, cfg.DatabaseURL, cfg.DatabaseMaxConns)
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
		"kafkaTLS", cfg.KafkaTLS, "kafkaSASL", cfg.KafkaSASL, "bridgeTargets", len(subs), "bridgeAuth", cfg.BridgeAuth)

	health, err := serve.Listen(net.JoinHostPort(cfg.ListenHost, strconv.Itoa(cfg.Port)), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
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
		return relay.New(db, pub, relay.Options{TopicPrefix: cfg.TopicPrefix, BatchSize: cfg.RelayBatchSize, Consumers: consumers}).Run(gctx)
	})
	if cfg.Backbone == "kafka" {
		opts := bridge.Options{KafkaOpts: kafkaOpts, MaxAttempts: cfg.BridgeMaxAttempts,
			BackoffBase: cfg.BridgeMinBackoff, BackoffMax: cfg.BridgeMaxBackoff}
		g.Go(func() error {
			return bridge.NewKafka(cfg.KafkaBrokers, cfg.TopicPrefix, subs, pub, opts).Run(gctx)
		})
	}
	return g.Wait()
}

// bridgeSubscriptions turns BRIDGE_TARGETS into the bridge's subscriptions, each with the
// credential its consumer checks: a Google ID token for its audience (BRIDGE_AUTH=oidc,
// private Cloud Run services) or PUSH_TOKEN in its URL (token, local).
func bridgeSubscriptions(ctx context.Context, cfg config.Config) ([]bridge.Subscription, error) {
	targets, err := bridge.ParseTargets(cfg.BridgeTargets)
	if err != nil {
		return nil, err
	}
	if cfg.BridgeAuth == "token" && len(cfg.PushToken) < config.MinPushTokenLength {
		return nil, fmt.Errorf("BRIDGE_AUTH=token needs PUSH_TOKEN (at least %d characters), the consumers' delivery credential", config.MinPushTokenLength)
	}
	names := make([]string, 0, len(targets))
	for name := range targets {
		names = append(names, name)
	}
	slices.Sort(names)
	subs := make([]bridge.Subscription, 0, len(names))
	for _, name := range names {
		t := targets[name]
		sub := bridge.Subscription{Name: name, Topic: cfg.TopicPrefix + t.Topic, URL: t.URL}
		switch cfg.BridgeAuth {
		case "oidc":
			c, err := idtoken.NewClient(ctx, t.Audience)
			if err != nil {
				return nil, fmt.Errorf("oidc client for %s: %w", name, err)
			}
			sub.Client = c
		case "token":
			if sub.URL, err = pushauth.URL(t.URL, cfg.PushToken); err != nil {
				return nil, fmt.Errorf("BRIDGE_TARGETS: consumer %s: %w", name, err)
			}
		}
		subs = append(subs, sub)
	}
	return subs, nil
}
