// Command deadletters lists the events that did not get through and replays them once
// their cause is fixed (make deadletters, make deadletters-replay):
//
//	deadletters [list] [-topic product-created,...] [-after 15m] [-json]
//	deadletters replay [-topic product-created,...] [-after 15m]
//
// It reads messaging.outbox (FAILED rows; rows sent more than -after ago that a consumer of
// their topic has not recorded) from DATABASE_URL, and the dead-letter topics of the
// configured backbone: Pub/Sub (PUBSUB_EMULATOR_HOST, or GCP's PUBSUB_PROJECT_ID with the
// caller's credentials) or Kafka (KAFKA_BROKERS, with KAFKA_TLS and KAFKA_SASL), topics
// under TOPIC_PREFIX. Which consumers subscribe to a topic comes from the manifest
// Terraform deploys (infra/terraform/functions.json). See docs/deploy.md, "Dead letters".
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/8949market/market/infra/terraform"
	relay "github.com/8949market/market/outbox-relay"
	"github.com/8949market/market/outbox-relay/deadletter"
	"github.com/8949market/market/shared/bus"
	"github.com/8949market/market/shared/config"
	"github.com/8949market/market/shared/postgres"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "deadletters:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, out io.Writer) error {
	action := "list"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		action, args = args[0], args[1:]
	}
	if action != "list" && action != "replay" {
		return fmt.Errorf("unknown action %q: list or replay", action)
	}
	fs := flag.NewFlagSet("deadletters "+action, flag.ContinueOnError)
	topicList := fs.String("topic", "", "only these topics, comma-separated, without prefix (default: every topic)")
	after := fs.Duration("after", 15*time.Minute, "an event sent this long ago that a consumer has not recorded counts as undelivered (the relay's RedeliverAfter)")
	asJSON := fs.Bool("json", false, "list as JSON, one letter per line")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var only []string
	if *topicList != "" {
		only = strings.Split(*topicList, ",")
	}
	topics, err := deadletter.Topics(only)
	if err != nil {
		return err
	}

	cfg, err := config.Load()
	if err != nil {
		return err
	}
	// Progress goes to stderr, the letters to out.
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	consumers, err := relay.ConsumersFromManifest(terraform.Manifest)
	if err != nil {
		return err
	}
	db, err := postgres.Connect(ctx, cfg.DatabaseURL, 2)
	if err != nil {
		return err
	}
	defer db.Close()
	backbone, where, err := connect(ctx, cfg)
	if err != nil {
		return err
	}
	if backbone != nil {
		defer backbone.Close()
	}
	fmt.Fprintf(os.Stderr, "database %s; dead-letter topics: %s\n", config.Redact(cfg.DatabaseURL), where)
	desk := &deadletter.Desk{DB: db, Consumers: consumers, After: *after, Backbone: backbone}

	if action == "replay" {
		res, err := desk.Replay(ctx, topics)
		if err != nil && res.Failed+res.Undelivered+res.DeadLettered == 0 {
			return err
		}
		fmt.Fprintf(out, "replayed: %d FAILED and %d undelivered outbox rows back to PENDING (the relay publishes them), %d dead-lettered messages published to their topics\n",
			res.Failed, res.Undelivered, res.DeadLettered)
		if len(res.Left) > 0 {
			fmt.Fprintf(out, "left: %d messages that are not CloudEvents and cannot be replayed:\n", len(res.Left))
			_ = write(out, res.Left, false)
		}
		return err
	}
	letters, err := desk.List(ctx, topics)
	if err != nil && len(letters) == 0 {
		return err
	}
	if perr := write(out, letters, *asJSON); perr != nil {
		return errors.Join(err, perr)
	}
	return err
}

// connect reaches the dead-letter topics of the configured backbone, or says why not.
func connect(ctx context.Context, cfg config.Config) (deadletter.Backbone, string, error) {
	switch cfg.Backbone {
	case "kafka":
		if len(cfg.KafkaBrokers) == 0 {
			return nil, "not read: no KAFKA_BROKERS (make dev's in-process broker keeps them in its own process)", nil
		}
		auth, err := bus.KafkaAuth(ctx, cfg)
		if err != nil {
			return nil, "", err
		}
		k, err := deadletter.NewKafka(cfg.KafkaBrokers, cfg.TopicPrefix, auth...)
		if err != nil {
			return nil, "", err
		}
		return k, "kafka " + strings.Join(cfg.KafkaBrokers, ","), nil
	case "pubsub":
		if _, set := os.LookupEnv("PUBSUB_PROJECT_ID"); !set && cfg.PubSubEmulatorHost == "" {
			// Not GCP (the project is named there): make dev's in-process Pub/Sub.
			return nil, "not read: neither PUBSUB_EMULATOR_HOST nor PUBSUB_PROJECT_ID (make dev's in-process Pub/Sub keeps them in its own process)", nil
		}
		ps, err := bus.NewPubSub(ctx, cfg.PubSubProject, cfg.PubSubEmulatorHost)
		if err != nil {
			return nil, "", err
		}
		where := "pubsub project " + cfg.PubSubProject
		if cfg.PubSubEmulatorHost != "" {
			where += " on " + cfg.PubSubEmulatorHost
		}
		return closing{deadletter.NewPubSub(ps, cfg.TopicPrefix), ps}, where, nil
	}
	return nil, "", fmt.Errorf("unknown backbone %q", cfg.Backbone)
}

// closing closes the Pub/Sub client with the backbone reading through it.
type closing struct {
	*deadletter.PubSub
	ps *bus.PubSub
}

func (c closing) Close() error { return c.ps.Close() }

// write writes letters as a table, or as JSON lines.
func write(out io.Writer, letters []deadletter.Letter, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(out)
		for _, l := range letters {
			if err := enc.Encode(l); err != nil {
				return err
			}
		}
		return nil
	}
	if len(letters) == 0 {
		_, err := fmt.Fprintln(out, "nothing: no FAILED or undelivered outbox row, no dead-lettered message")
		return err
	}
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "KIND\tTOPIC\tEVENT\tSUBJECT\tAT\tMISSING\tWHERE\tERROR")
	for _, l := range letters {
		missing := strings.Join(l.Missing, ",")
		if missing == "" {
			missing = "-"
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", l.Kind, l.Topic, l.EventID, l.Subject,
			l.At.UTC().Format(time.RFC3339), missing, l.Where, l.Error)
	}
	return w.Flush()
}
