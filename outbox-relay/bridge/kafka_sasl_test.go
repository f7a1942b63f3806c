package bridge_test

import (
	"context"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/8949market/market/outbox-relay/bridge"
	"github.com/8949market/market/shared/bus"
	"github.com/8949market/market/shared/config"
	"github.com/8949market/market/shared/testenv"
)

// kafkaAuth is what bus.KafkaAuth makes of SASL/PLAIN with user and pass.
func kafkaAuth(t *testing.T, user, pass string) []kgo.Opt {
	t.Helper()
	cfg, err := config.Parse(map[string]string{"KAFKA_SASL": "plain", "KAFKA_SASL_USERNAME": user, "KAFKA_SASL_PASSWORD": pass})
	if err != nil {
		t.Fatal(err)
	}
	opts, err := bus.KafkaAuth(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return opts
}

// The bridge's consumers and its lag reader authenticate with Options.KafkaOpts: with the
// right credentials an event is delivered and committed, with wrong ones nothing is.
func TestKafkaBridgeSASLPlain(t *testing.T) {
	t.Parallel()
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.DefaultNumPartitions(bus.KafkaPartitions),
		kfake.EnableSASL(), kfake.Superuser("PLAIN", "relay", "s3cret"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cluster.Close)
	brokers := cluster.ListenAddrs()
	good := kafkaAuth(t, "relay", "s3cret")
	pub, err := bus.NewKafka(brokers, good...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pub.Close() })
	topic, dlt := uniqueTopic()
	if err := pub.EnsureTopics(testContext(t), []string{topic, dlt}); err != nil {
		t.Fatal(err)
	}
	m := testMessage(topic, "agg-1", map[string]any{"n": 1})
	if err := pub.Publish(testContext(t), []bus.Message{m})[0]; err != nil {
		t.Fatal(err)
	}

	// Two bridges on the same topic, each its own group: one with the cluster's
	// credentials, one with a wrong password.
	bridgeWith := func(name string, opts []kgo.Opt) (*bridge.Kafka, *consumer) {
		c := newConsumer(t, failFirst(0))
		sub := bridge.Subscription{Name: name, Topic: topic, URL: c.URL()}
		kb := bridge.NewKafka(brokers, groupPrefix, []bridge.Subscription{sub}, pub, bridge.Options{KafkaOpts: opts})
		startRun(t, kb.Run)
		return kb, c
	}
	accepted, acceptedConsumer := bridgeWith("sasl-accepted", good)
	refused, refusedConsumer := bridgeWith("sasl-refused", kafkaAuth(t, "relay", "guess"))

	testenv.Eventually(t, 15*time.Second, "the event delivered", func() bool { return acceptedConsumer.succeeded(m.ID) })
	testenv.Eventually(t, 15*time.Second, "lag 0", func() bool {
		lag, err := accepted.Lag(testContext(t))
		return err == nil && lag == 0
	})
	// By now the refused bridge had as long as the accepted one took.
	if got := refusedConsumer.deliveries(); len(got) != 0 {
		t.Errorf("%d deliveries with wrong credentials, want 0", len(got))
	}
	// The broker closes the connection; a client that retries would get no answer either.
	ctx, cancel := context.WithTimeout(t.Context(), 500*time.Millisecond)
	defer cancel()
	if lag, err := refused.Lag(ctx); err == nil {
		t.Errorf("Lag with wrong credentials = %d, nil; want an error", lag)
	}
}
