package bridge_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/pubsub/v2"
	cloudevents "github.com/cloudevents/sdk-go/v2"
	"github.com/google/uuid"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/8949market/market/outbox-relay/bridge"
	"github.com/8949market/market/shared/bus"
	"github.com/8949market/market/shared/bus/pubsubtest"
	"github.com/8949market/market/shared/telemetry"
	"github.com/8949market/market/shared/testenv"
)

// The delivery contract is the same on both backbones; these tests run on each.

// stream is a backbone with a topic and its dead-letter topic created, ready for one
// bridge with one subscription.
type stream interface {
	publish(t *testing.T, msgs ...bus.Message)
	// startBridge starts the bridge for sub (its subscription exists before it returns).
	startBridge(t *testing.T, sub bridge.Subscription, opts bridge.Options)
	// settle waits, once the last expected delivery was seen, until the bridge has
	// settled every event (Kafka: committed; Pub/Sub: acknowledged).
	settle(t *testing.T)
	// parked returns what the bridge parked on the dead-letter topic; call it after settle.
	parked(t *testing.T) []parkedEvent
}

// parkedEvent is an event found on a dead-letter topic.
type parkedEvent struct {
	msg    bus.Message
	key    string // Kafka key or Pub/Sub ordering key
	reason string // the raw deadletterreason binding attribute
}

var backbones = []struct {
	name string
	open func(t *testing.T, topic, dlt string) stream
}{
	{"kafka", openKafkaStream},
	{"pubsub", openPubSubStream},
}

func TestRetryThenSuccess(t *testing.T) {
	t.Parallel()
	for _, bb := range backbones {
		t.Run(bb.name, func(t *testing.T) {
			t.Parallel()
			topic, dlt := uniqueTopic()
			s := bb.open(t, topic, dlt)
			c := newConsumer(t, failFirst(2))
			s.startBridge(t, bridge.Subscription{Name: "notify-on-product-created", Topic: topic, URL: c.URL()},
				bridge.Options{BackoffBase: 10 * time.Millisecond})

			m := testMessage(topic, "agg-1", map[string]any{"productId": "p-1", "price": 1200})
			s.publish(t, m)
			testenv.Eventually(t, 20*time.Second, "a successful delivery", func() bool { return c.succeeded(m.ID) })
			s.settle(t)

			var statuses []int
			for _, d := range c.of(m.ID) {
				statuses = append(statuses, d.status)
				checkDeliveredIntact(t, d, m)
			}
			if want := []int{500, 500, 200}; !slices.Equal(statuses, want) {
				t.Errorf("delivery statuses = %v, want %v", statuses, want)
			}
			if n := len(c.deliveries()); n != 3 {
				t.Errorf("consumer saw %d deliveries, want 3", n)
			}
			if bad := c.undecodable(); len(bad) > 0 {
				t.Errorf("consumer got requests that are not CloudEvents: %v", bad)
			}
			if p := s.parked(t); len(p) != 0 {
				t.Errorf("parked %d events, want none: %+v", len(p), p)
			}
		})
	}
}

func TestPoisonEventIsParkedAndAggregateMovesOn(t *testing.T) {
	t.Parallel()
	for _, bb := range backbones {
		t.Run(bb.name, func(t *testing.T) {
			t.Parallel()
			topic, dlt := uniqueTopic()
			s := bb.open(t, topic, dlt)
			a := testMessage(topic, "agg-1", map[string]any{"n": "A"})
			b := testMessage(topic, "agg-1", map[string]any{"n": "B"}) // same aggregate, after A
			c := newConsumer(t, func(e cloudevents.Event, _ int) int {
				if e.ID() == a.ID {
					return http.StatusInternalServerError
				}
				return http.StatusOK
			})
			sub := bridge.Subscription{Name: "reserve-on-product-created", Topic: topic, URL: c.URL()}
			s.startBridge(t, sub, bridge.Options{MaxAttempts: 3, BackoffBase: 5 * time.Millisecond})

			parkedBefore := otelkit.Counter(t, "market.deadletters",
				attribute.String("topic", a.Type), attribute.String("source", bus.DeadLetterBridge))
			s.publish(t, a, b)
			testenv.Eventually(t, 20*time.Second, "B delivered", func() bool { return c.succeeded(b.ID) })
			s.settle(t)

			gotA, gotB := c.of(a.ID), c.of(b.ID)
			if len(gotA) != 3 {
				t.Fatalf("A delivered %d times, want MaxAttempts = 3", len(gotA))
			}
			if len(gotB) != 1 || gotB[0].status != http.StatusOK {
				t.Fatalf("B deliveries = %d, want exactly one, answered 200", len(gotB))
			}
			if last := gotA[len(gotA)-1]; gotB[0].seq < last.seq {
				t.Errorf("B (delivery #%d) came before A's last attempt (#%d): order per aggregate broken",
					gotB[0].seq, last.seq)
			}
			checkDeliveredIntact(t, gotB[0], b)

			p := s.parked(t)
			if len(p) != 1 {
				t.Fatalf("parked %d events, want 1 (A): %+v", len(p), p)
			}
			got := p[0].msg
			if got.ID != a.ID || got.Type != a.Type || got.Source != a.Source || got.Subject != a.Subject ||
				!got.Time.Equal(a.Time) || string(got.Data) != string(a.Data) {
				t.Errorf("parked %+v, want the attributes and data of A %+v", got, a)
			}
			// The parked message continues from its deadletter span, in A's trace.
			parent := trace.SpanContextFromContext(telemetry.WithTraceparent(context.Background(), a.Traceparent))
			parkedAt := trace.SpanContextFromContext(telemetry.WithTraceparent(context.Background(), got.Traceparent))
			if span, ok := otelkit.Span(parkedAt.SpanID()); !ok || span.Name() != "deadletter "+dlt || span.Parent().SpanID() != parent.SpanID() {
				t.Errorf("parked with traceparent %q, want its deadletter span's, a child of A's %q", got.Traceparent, a.Traceparent)
			}
			// Counted by the bridge (other tests may park product-created events meanwhile).
			if n := otelkit.Counter(t, "market.deadletters", attribute.String("topic", a.Type),
				attribute.String("source", bus.DeadLetterBridge)); n < parkedBefore+1 {
				t.Errorf("market.deadletters{source=bridge} went from %d to %d, want one more", parkedBefore, n)
			}
			if p[0].key != a.Subject {
				t.Errorf("parked with key %q, want the aggregate id %q", p[0].key, a.Subject)
			}
			if !strings.Contains(p[0].reason, "consumer "+sub.Name) || !strings.Contains(p[0].reason, "status 500") {
				t.Errorf("deadletterreason = %q, want it to name consumer %s and the last failure", p[0].reason, sub.Name)
			}
		})
	}
}

// kafkaStream is the Kafka backbone on an in-process kfake cluster.
type kafkaStream struct {
	*kafkaEnv
	topic, dlt string
	kb         *bridge.Kafka
	sub        bridge.Subscription
}

func openKafkaStream(t *testing.T, topic, dlt string) stream {
	return &kafkaStream{kafkaEnv: newKafkaEnv(t, topic, dlt), topic: topic, dlt: dlt}
}

func (k *kafkaStream) startBridge(t *testing.T, sub bridge.Subscription, opts bridge.Options) {
	k.sub = sub
	k.kb = bridge.NewKafka(k.brokers, groupPrefix, []bridge.Subscription{sub}, k.pub, opts)
	startRun(t, k.kb.Run)
}

func (k *kafkaStream) settle(t *testing.T) {
	t.Helper()
	testenv.Eventually(t, 15*time.Second, "lag 0", k.caughtUp(testContext(t), k.kb, k.sub))
}

// parked reads the whole dead-letter topic: an offset is committed only after its event
// was parked, so after settle everything parked is there.
func (k *kafkaStream) parked(t *testing.T) []parkedEvent {
	t.Helper()
	n := k.endOffsets(t, k.dlt)
	if n == 0 {
		return nil
	}
	var out []parkedEvent
	for _, r := range k.readTopic(t, k.dlt, int(n)) {
		m, err := bus.FromKafka(r)
		if err != nil {
			t.Fatalf("dead letter at %d/%d is not a CloudEvent: %v", r.Partition, r.Offset, err)
		}
		reason, _ := header(r, "ce_deadletterreason")
		out = append(out, parkedEvent{msg: m, key: string(r.Key), reason: reason})
	}
	return out
}

// pubsubStream is the Pub/Sub backbone on the emulator (or pstest).
type pubsubStream struct {
	ps         *bus.PubSub
	topic, dlt string
	watchDLT   string // a subscription on the dead-letter topic
	pb         *bridge.PubSub
}

const pubsubProject = "market-8949-test"

func openPubSubStream(t *testing.T, topic, dlt string) stream {
	t.Helper()
	host, kind := pubsubtest.Emulator(t)
	t.Logf("pubsub: %s at %s", kind, host)
	ctx := testContext(t)
	ps, err := bus.NewPubSub(ctx, pubsubProject, host)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ps.Close() })
	if err := ps.EnsureTopics(ctx, []string{topic, dlt}); err != nil {
		t.Fatalf("ensure topics: %v", err)
	}
	s := &pubsubStream{ps: ps, topic: topic, dlt: dlt, watchDLT: "watch-" + uuid.NewString()}
	if err := ps.EnsureSubscription(ctx, s.watchDLT, dlt); err != nil {
		t.Fatalf("dead-letter subscription: %v", err)
	}
	return s
}

func (p *pubsubStream) publish(t *testing.T, msgs ...bus.Message) {
	t.Helper()
	for i, err := range p.ps.Publish(testContext(t), msgs) {
		if err != nil {
			t.Fatalf("publish %s: %v", msgs[i].ID, err)
		}
	}
}

func (p *pubsubStream) startBridge(t *testing.T, sub bridge.Subscription, opts bridge.Options) {
	t.Helper()
	const prefix = "push-"
	// Run creates the subscription too, but a message published before a subscription
	// exists never reaches it: create it before anything is published.
	if err := p.ps.EnsureSubscription(testContext(t), prefix+sub.Name, sub.Topic); err != nil {
		t.Fatal(err)
	}
	p.pb = bridge.NewPubSub(p.ps, prefix, []bridge.Subscription{sub}, opts)
	startRun(t, p.pb.Run)
}

// settle waits until no message is in the bridge's hands: what it parked was published
// before it acknowledged.
func (p *pubsubStream) settle(t *testing.T) {
	t.Helper()
	testenv.Eventually(t, 15*time.Second, "nothing in flight", func() bool { return p.pb.Idle(time.Time{}, 0) })
}

// parked publishes a sentinel to the dead-letter topic through the bridge's own
// publisher (same ordering key as the test events, agg-1) and pulls the dead-letter
// subscription up to it: anything parked before arrives before it.
func (p *pubsubStream) parked(t *testing.T) []parkedEvent {
	t.Helper()
	sentinel := testMessage(p.dlt, "agg-1", map[string]any{"sentinel": true})
	p.publish(t, sentinel)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	var (
		mu      sync.Mutex
		out     []parkedEvent
		found   bool
		decodes []error
	)
	err := p.ps.Client().Subscriber(p.watchDLT).Receive(ctx, func(_ context.Context, msg *pubsub.Message) {
		msg.Ack()
		mu.Lock()
		defer mu.Unlock()
		m, err := bus.FromPubSub(p.dlt, msg)
		switch {
		case err != nil:
			decodes = append(decodes, err)
		case m.ID == sentinel.ID:
			found = true
			cancel()
		case !found:
			out = append(out, parkedEvent{msg: m, key: msg.OrderingKey, reason: msg.Attributes["ce-deadletterreason"]})
		}
	})
	mu.Lock()
	defer mu.Unlock()
	if err != nil {
		t.Fatalf("receive dead letters: %v", err)
	}
	if !found {
		t.Fatalf("dead-letter sentinel not received within 15s (got %d before)", len(out))
	}
	if len(decodes) > 0 {
		t.Errorf("dead letters that are not CloudEvents: %v", decodes)
	}
	return out
}
