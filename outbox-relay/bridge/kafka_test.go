package bridge_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/8949market/market/outbox-relay/bridge"
	"github.com/8949market/market/shared/bus"
	"github.com/8949market/market/shared/testenv"
)

const groupPrefix = "bridge-test-"

// kafkaEnv is an in-process Kafka cluster with a publisher and an admin client.
type kafkaEnv struct {
	brokers []string
	pub     *bus.Kafka
	admin   *kadm.Client
}

// newKafkaEnv starts a kfake cluster and creates topics on it.
func newKafkaEnv(t *testing.T, topics ...string) *kafkaEnv {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.AllowAutoTopicCreation(),
		kfake.DefaultNumPartitions(bus.KafkaPartitions))
	if err != nil {
		t.Fatalf("kfake: %v", err)
	}
	t.Cleanup(c.Close)
	brokers := c.ListenAddrs()
	pub, err := bus.NewKafka(brokers)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pub.Close() })
	if err := pub.EnsureTopics(testContext(t), topics); err != nil {
		t.Fatalf("ensure topics: %v", err)
	}
	return &kafkaEnv{brokers: brokers, pub: pub, admin: kadm.NewClient(pub.Client())}
}

func (k *kafkaEnv) publish(t *testing.T, msgs ...bus.Message) {
	t.Helper()
	for i, err := range k.pub.Publish(testContext(t), msgs) {
		if err != nil {
			t.Fatalf("publish %s: %v", msgs[i].ID, err)
		}
	}
}

// endOffsets is the number of records ever written to topic (its end offsets summed).
func (k *kafkaEnv) endOffsets(t *testing.T, topic string) int64 {
	t.Helper()
	ends, err := k.admin.ListEndOffsets(testContext(t), topic)
	if err != nil {
		t.Fatalf("list end offsets of %s: %v", topic, err)
	}
	var n int64
	ends.Each(func(o kadm.ListedOffset) {
		if o.Err != nil {
			t.Fatalf("end offset of %s/%d: %v", topic, o.Partition, o.Err)
		}
		n += o.Offset
	})
	return n
}

// committedLag is how many records of topic group has not committed, counted from the
// group's commits alone (a partition without a commit lags from its start, as the bridge
// consumes from the start), so it does not depend on whether the group has members now.
func (k *kafkaEnv) committedLag(ctx context.Context, group, topic string) (int64, error) {
	commits, err := k.admin.FetchOffsets(ctx, group)
	if errors.Is(err, kerr.GroupIDNotFound) { // kfake's answer for a group without commits
		commits, err = nil, nil
	}
	if err != nil {
		return 0, fmt.Errorf("fetch offsets of %s: %w", group, err)
	}
	starts, err := k.admin.ListStartOffsets(ctx, topic)
	if err != nil {
		return 0, err
	}
	ends, err := k.admin.ListEndOffsets(ctx, topic)
	if err != nil {
		return 0, err
	}
	var lag int64
	ends.Each(func(end kadm.ListedOffset) {
		from := starts[topic][end.Partition].Offset
		if c, ok := commits.Lookup(topic, end.Partition); ok && c.Err == nil && c.At >= 0 {
			from = c.At
		}
		lag += max(end.Offset-from, 0)
	})
	return lag, nil
}

func (k *kafkaEnv) mustCommittedLag(t *testing.T, group, topic string) int64 {
	t.Helper()
	lag, err := k.committedLag(testContext(t), group, topic)
	if err != nil {
		t.Fatalf("committed lag: %v", err)
	}
	return lag
}

// readTopic consumes topic from the start (no group) until it holds n records.
func (k *kafkaEnv) readTopic(t *testing.T, topic string, n int) []*kgo.Record {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(k.brokers...), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var recs []*kgo.Record
	for len(recs) < n {
		fetches := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("read %s: got %d records, want %d", topic, len(recs), n)
		}
		fetches.EachError(func(_ string, _ int32, err error) { t.Logf("read %s: %v", topic, err) })
		recs = append(recs, fetches.Records()...)
	}
	return recs
}

// caughtUp reports whether the bridge's group for sub has committed everything on its
// topic, by the bridge's own Lag and by the group's commits.
func (k *kafkaEnv) caughtUp(ctx context.Context, kb *bridge.Kafka, sub bridge.Subscription) func() bool {
	return func() bool {
		lag, err := kb.Lag(ctx)
		if err != nil || lag != 0 {
			return false
		}
		committed, err := k.committedLag(ctx, groupPrefix+sub.Name, sub.Topic)
		return err == nil && committed == 0
	}
}

func header(r *kgo.Record, key string) (string, bool) {
	for _, h := range r.Headers {
		if h.Key == key {
			return string(h.Value), true
		}
	}
	return "", false
}

func TestKafkaUndecodableRecordIsParked(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	topic, dlt := uniqueTopic()
	env := newKafkaEnv(t, topic, dlt)
	c := newConsumer(t, failFirst(0))
	sub := bridge.Subscription{Name: "index-product", Topic: topic, URL: c.URL()}
	kb := bridge.NewKafka(env.brokers, groupPrefix, []bridge.Subscription{sub}, env.pub,
		bridge.Options{MaxAttempts: 3, BackoffBase: 5 * time.Millisecond})
	startRun(t, kb.Run)

	raw := &kgo.Record{Topic: topic, Key: []byte("agg-1"), Value: []byte(`{"legacy":true}`),
		Headers: []kgo.RecordHeader{{Key: "content-type", Value: []byte("application/json")}}}
	if err := env.pub.Client().ProduceSync(ctx, raw).FirstErr(); err != nil {
		t.Fatalf("produce raw record: %v", err)
	}
	valid := testMessage(topic, "agg-1", map[string]any{"n": 1}) // same key: same partition, after raw
	env.publish(t, valid)

	testenv.Eventually(t, 15*time.Second, "the valid event delivered", func() bool { return c.succeeded(valid.ID) })
	testenv.Eventually(t, 15*time.Second, "lag 0", env.caughtUp(ctx, kb, sub))

	if got := c.deliveries(); len(got) != 1 || got[0].event.ID() != valid.ID {
		t.Errorf("consumer deliveries = %d (first %v), want only the valid event", len(got), got)
	}
	if bad := c.undecodable(); len(bad) > 0 {
		t.Errorf("the undecodable record reached the consumer: %v", bad)
	}
	recs := env.readTopic(t, dlt, 1)
	if n := env.endOffsets(t, dlt); n != 1 {
		t.Errorf("%d records on the dead-letter topic, want 1", n)
	}
	parked, err := bus.FromKafka(recs[0])
	if err != nil {
		t.Fatalf("dead letter is not a CloudEvent: %v", err)
	}
	wantID := fmt.Sprintf("%s/%d/%d", topic, raw.Partition, raw.Offset)
	if parked.Type != "undecodable" || parked.ID != wantID || parked.Subject != "agg-1" ||
		string(parked.Data) != string(raw.Value) {
		t.Errorf("dead letter = type %q id %q subject %q data %s; want undecodable %q agg-1 %s",
			parked.Type, parked.ID, parked.Subject, parked.Data, wantID, raw.Value)
	}
	if !strings.Contains(parked.Reason, "consumer "+sub.Name) {
		t.Errorf("deadletterreason = %q, want it to name consumer %s", parked.Reason, sub.Name)
	}
}

func TestKafkaStopMidRetryDoesNotCommit(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	topic, dlt := uniqueTopic()
	env := newKafkaEnv(t, topic, dlt)
	var healthy atomic.Bool
	c := newConsumer(t, func(cloudevents.Event, int) int {
		if healthy.Load() {
			return http.StatusOK
		}
		return http.StatusInternalServerError
	})
	sub := bridge.Subscription{Name: "settle-trade", Topic: topic, URL: c.URL()}
	subs := []bridge.Subscription{sub}
	opts := bridge.Options{MaxAttempts: 50, BackoffBase: 50 * time.Millisecond}
	kb := bridge.NewKafka(env.brokers, groupPrefix, subs, env.pub, opts)
	run := startRun(t, kb.Run)

	m := testMessage(topic, "agg-1", map[string]any{"n": 1})
	env.publish(t, m)
	testenv.Eventually(t, 15*time.Second, "two failed attempts", func() bool { return len(c.of(m.ID)) >= 2 })

	if err := run.stop(t); err != nil {
		t.Fatalf("Run returned %v after its context ended, want nil", err)
	}
	attempts := len(c.of(m.ID))
	if attempts >= opts.MaxAttempts {
		t.Fatalf("%d attempts: the bridge gave up before it was stopped", attempts)
	}
	if n := env.endOffsets(t, dlt); n != 0 {
		t.Errorf("%d records on the dead-letter topic after a stop mid-retry, want 0", n)
	}
	group := groupPrefix + sub.Name
	if lag := env.mustCommittedLag(t, group, topic); lag != 1 {
		t.Errorf("committed lag after stop = %d, want 1 (the event must be redelivered)", lag)
	}

	// The next bridge of the same group gets the event again.
	healthy.Store(true)
	kb2 := bridge.NewKafka(env.brokers, groupPrefix, subs, env.pub, opts)
	startRun(t, kb2.Run)
	testenv.Eventually(t, 15*time.Second, "redelivery after restart", func() bool { return c.succeeded(m.ID) })
	testenv.Eventually(t, 15*time.Second, "lag 0 after redelivery", env.caughtUp(ctx, kb2, sub))
	if got := len(c.of(m.ID)); got != attempts+1 {
		t.Errorf("deliveries = %d, want the %d before the stop plus one", got, attempts)
	}
	if n := env.endOffsets(t, dlt); n != 0 {
		t.Errorf("%d records on the dead-letter topic, want 0", n)
	}
	if lag := env.mustCommittedLag(t, group, topic); lag != 0 {
		t.Errorf("committed lag after redelivery = %d, want 0", lag)
	}
}

func TestKafkaOrderPerAggregate(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	topic, dlt := uniqueTopic()
	env := newKafkaEnv(t, topic, dlt)
	c := newConsumer(t, failFirst(0))
	sub := bridge.Subscription{Name: "project-orders", Topic: topic, URL: c.URL()}
	kb := bridge.NewKafka(env.brokers, groupPrefix, []bridge.Subscription{sub}, env.pub, bridge.Options{})
	startRun(t, kb.Run)

	const keys, perKey = 10, 20
	type payload struct {
		Key string `json:"key"`
		Seq int    `json:"seq"`
	}
	var msgs []bus.Message
	for seq := range perKey {
		for k := range keys {
			key := fmt.Sprintf("agg-%d", k)
			msgs = append(msgs, testMessage(topic, key, payload{Key: key, Seq: seq}))
		}
	}
	env.publish(t, msgs...)

	testenv.Eventually(t, 20*time.Second, "every event delivered",
		func() bool { return len(c.deliveries()) >= keys*perKey })
	testenv.Eventually(t, 15*time.Second, "lag 0", env.caughtUp(ctx, kb, sub))

	got := c.deliveries()
	if len(got) != keys*perKey {
		t.Errorf("%d deliveries, want %d", len(got), keys*perKey)
	}
	seen := map[string]bool{}
	seqs := map[string][]int{}
	for _, d := range got {
		if seen[d.event.ID()] {
			t.Errorf("event %s delivered twice", d.event.ID())
		}
		seen[d.event.ID()] = true
		var p payload
		if err := json.Unmarshal(d.event.Data(), &p); err != nil {
			t.Fatalf("payload %s: %v", d.event.Data(), err)
		}
		if p.Key != d.event.Subject() {
			t.Errorf("payload key %q delivered with subject %q", p.Key, d.event.Subject())
		}
		seqs[p.Key] = append(seqs[p.Key], p.Seq)
	}
	want := make([]int, perKey)
	for i := range want {
		want[i] = i
	}
	if len(seqs) != keys {
		t.Errorf("events of %d keys delivered, want %d", len(seqs), keys)
	}
	for key, s := range seqs {
		if !slices.Equal(s, want) {
			t.Errorf("key %s delivered in order %v, want %v", key, s, want)
		}
	}
	if n := env.endOffsets(t, dlt); n != 0 {
		t.Errorf("%d records on the dead-letter topic, want 0", n)
	}
}

// Lag must count what the group has not committed whether or not the bridge is running:
// the dev stack's settle and any lag alert read it while the bridge may be starting,
// restarting or down.
func TestKafkaLagCountsUncommittedWhenStopped(t *testing.T) {
	t.Parallel()
	// A group that is down before its first commit has no members and no commits: Lag
	// must still count from the start of each partition.
	cases := []struct {
		name string
		run  bool // run the bridge until it tried, then stop it before any commit
	}{
		{"never ran", false},
		{"stopped before its first commit", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := testContext(t)
			topic, dlt := uniqueTopic()
			env := newKafkaEnv(t, topic, dlt)
			c := newConsumer(t, func(cloudevents.Event, int) int { return http.StatusServiceUnavailable })
			sub := bridge.Subscription{Name: "lagging", Topic: topic, URL: c.URL()}
			kb := bridge.NewKafka(env.brokers, groupPrefix, []bridge.Subscription{sub}, env.pub,
				bridge.Options{MaxAttempts: 50, BackoffBase: 50 * time.Millisecond})
			m := testMessage(topic, "agg-1", map[string]any{"n": 1})
			env.publish(t, m, testMessage(topic, "agg-2", map[string]any{"n": 2}))
			if tc.run {
				r := startRun(t, kb.Run)
				testenv.Eventually(t, 15*time.Second, "a failed attempt", func() bool { return len(c.of(m.ID)) >= 1 })
				if err := r.stop(t); err != nil {
					t.Fatal(err)
				}
			}
			if committed := env.mustCommittedLag(t, groupPrefix+sub.Name, topic); committed != 2 {
				t.Fatalf("test setup: committed lag = %d, want 2", committed)
			}
			lag, err := kb.Lag(ctx)
			if err != nil || lag != 2 {
				t.Errorf("Lag() = %d, %v; want 2, nil (2 records not committed by the group)", lag, err)
			}
		})
	}
}
