package deadletter_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/pubsub/v2"
	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	relay "github.com/8949market/market/outbox-relay"
	"github.com/8949market/market/outbox-relay/deadletter"
	"github.com/8949market/market/shared/bus"
	"github.com/8949market/market/shared/bus/pubsubtest"
	"github.com/8949market/market/shared/events"
	"github.com/8949market/market/shared/outbox"
	"github.com/8949market/market/shared/testenv"
)

// backbone is one backbone's dead-letter topics as a test drives them.
type backbone struct {
	dl deadletter.Backbone
	// park puts m on the dead-letter topic of topic as the relay or the bridge does.
	park func(t *testing.T, topic string, m bus.Message)
	// parkRaw puts something that is not a CloudEvent there.
	parkRaw func(t *testing.T, topic string)
	// policy has the backbone itself dead-letter m after a consumer refused it, when it
	// can (Pub/Sub's dead-letter policy); nil otherwise.
	policy func(t *testing.T, topic string, m bus.Message)
	// received returns the event ids published to topic since the test began.
	received func(t *testing.T, topic string, want int) []string
	// rawStays: the raw message is still listed after a replay (Pub/Sub hands it back;
	// Kafka commits past it, and it stays at its offset).
	rawStays bool
}

func kafkaBackbone(t *testing.T, prefix string) backbone {
	t.Helper()
	fake, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.AllowAutoTopicCreation(), kfake.DefaultNumPartitions(2))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(fake.Close)
	brokers := fake.ListenAddrs()
	pub, err := bus.NewKafka(brokers)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pub.Close() })
	ctx := context.Background()
	if err := pub.EnsureTopics(ctx, relay.Topics(prefix, events.Topics())); err != nil {
		t.Fatal(err)
	}
	dl, err := deadletter.NewKafka(brokers, prefix)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = dl.Close() })
	return backbone{
		dl: dl,
		park: func(t *testing.T, topic string, m bus.Message) {
			m.Topic = prefix + topic + events.DeadLetterSuffix
			if err := pub.Publish(ctx, []bus.Message{m})[0]; err != nil {
				t.Fatal(err)
			}
		},
		parkRaw: func(t *testing.T, topic string) {
			rec := &kgo.Record{Topic: prefix + topic + events.DeadLetterSuffix, Key: []byte("k"), Value: []byte("not an event")}
			if err := pub.Client().ProduceSync(ctx, rec).FirstErr(); err != nil {
				t.Fatal(err)
			}
		},
		received: func(t *testing.T, topic string, want int) []string {
			cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumeTopics(prefix+topic),
				kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(100*time.Millisecond))
			if err != nil {
				t.Fatal(err)
			}
			defer cl.Close()
			ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
			defer cancel()
			var ids []string
			for len(ids) < want && ctx.Err() == nil {
				cl.PollFetches(ctx).EachRecord(func(r *kgo.Record) {
					m, err := bus.FromKafka(r)
					if err != nil {
						t.Fatal(err)
					}
					ids = append(ids, m.ID)
				})
			}
			return ids
		},
	}
}

func pubsubBackbone(t *testing.T, prefix string) backbone {
	t.Helper()
	host, kind := pubsubtest.Emulator(t)
	ctx := context.Background()
	ps, err := bus.NewPubSub(ctx, "market-8949-test", host)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ps.Close() })
	if err := ps.EnsureTopics(ctx, relay.Topics(prefix, events.Topics())); err != nil {
		t.Fatal(err)
	}
	admin := ps.Client().SubscriptionAdminClient
	for _, topic := range events.Topics() {
		if err := deadletter.EnsureHold(ctx, ps, prefix+topic+events.DeadLetterSuffix); err != nil {
			t.Fatal(err)
		}
		// What a replay publishes to the topic, seen by a probe subscribed before it.
		if err := ps.EnsureSubscription(ctx, prefix+"probe-"+topic, prefix+topic); err != nil {
			t.Fatal(err)
		}
	}
	b := backbone{
		dl: deadletter.NewPubSub(ps, prefix),
		park: func(t *testing.T, topic string, m bus.Message) {
			m.Topic = prefix + topic + events.DeadLetterSuffix
			if err := ps.Publish(ctx, []bus.Message{m})[0]; err != nil {
				t.Fatal(err)
			}
		},
		parkRaw: func(t *testing.T, topic string) {
			p := ps.Client().Publisher(prefix + topic + events.DeadLetterSuffix)
			defer p.Stop()
			if _, err := p.Publish(ctx, &pubsub.Message{Data: []byte("not an event")}).Get(ctx); err != nil {
				t.Fatal(err)
			}
		},
		policy: func(t *testing.T, topic string, m bus.Message) {
			// A consumer's subscription with a dead-letter policy, refusing every delivery.
			sub := prefix + "refuser-" + topic
			if _, err := admin.CreateSubscription(ctx, &pubsubpb.Subscription{
				Name: ps.SubscriptionName(sub), Topic: ps.TopicName(prefix + topic), AckDeadlineSeconds: 10,
				DeadLetterPolicy: &pubsubpb.DeadLetterPolicy{
					DeadLetterTopic: ps.TopicName(prefix + topic + events.DeadLetterSuffix), MaxDeliveryAttempts: 5},
			}); err != nil {
				t.Fatal(err)
			}
			m.Topic = prefix + topic
			if err := ps.Publish(ctx, []bus.Message{m})[0]; err != nil {
				t.Fatal(err)
			}
			// Pub/Sub moves the message to the dead-letter topic when it would deliver it a
			// sixth time: refuse until it is gone.
			deadline := time.Now().Add(30 * time.Second)
			for refused := 0; ; {
				if time.Now().After(deadline) {
					t.Fatalf("refused %d deliveries in 30s, and the message is still there", refused)
				}
				res, err := admin.Pull(ctx, &pubsubpb.PullRequest{Subscription: ps.SubscriptionName(sub), MaxMessages: 10, ReturnImmediately: true}) //nolint:staticcheck // the emulator waits for messages without it; the test polls
				if err != nil {
					t.Fatal(err)
				}
				if len(res.ReceivedMessages) == 0 && refused >= 5 {
					break
				}
				for _, rm := range res.ReceivedMessages {
					refused++
					if err := admin.ModifyAckDeadline(ctx, &pubsubpb.ModifyAckDeadlineRequest{
						Subscription: ps.SubscriptionName(sub), AckIds: []string{rm.AckId}, AckDeadlineSeconds: 0}); err != nil {
						t.Fatal(err)
					}
				}
			}
			// The probe saw the original publish; take it off so received counts replays.
			_ = drain(t, ps, prefix+"probe-"+topic, 1)
		},
		received: func(t *testing.T, topic string, want int) []string {
			return drain(t, ps, prefix+"probe-"+topic, want)
		},
		rawStays: true,
	}
	if kind == "pstest" {
		// pstest forwards to the dead-letter topic without the attributes Pub/Sub adds,
		// and a copy it forwarded is still listed after a replay acknowledged it: only
		// the emulator (as CI runs it) and Pub/Sub show what a dead-letter policy parks.
		b.policy = nil
	}
	return b
}

// drain pulls and acknowledges want messages from sub, or what came in 20 s, and returns
// their event ids.
func drain(t *testing.T, ps *bus.PubSub, sub string, want int) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	admin := ps.Client().SubscriptionAdminClient
	var ids []string
	for len(ids) < want && ctx.Err() == nil {
		res, err := admin.Pull(ctx, &pubsubpb.PullRequest{Subscription: ps.SubscriptionName(sub), MaxMessages: 100})
		if err != nil {
			continue // the deadline, or a pull that found nothing
		}
		for _, rm := range res.ReceivedMessages {
			ids = append(ids, rm.Message.Attributes["ce-id"])
			if err := admin.Acknowledge(ctx, &pubsubpb.AcknowledgeRequest{Subscription: ps.SubscriptionName(sub), AckIds: []string{rm.AckId}}); err != nil {
				t.Fatal(err)
			}
		}
	}
	return ids
}

// write commits an event of topic and sets its row as the relay would have left it.
func write(t *testing.T, db *pgxpool.Pool, topic, set string, args ...any) uuid.UUID {
	t.Helper()
	ctx := context.Background()
	id := uuid.New()
	err := pgx.BeginFunc(ctx, db, func(tx pgx.Tx) error {
		if err := outbox.Write(ctx, tx, outbox.Event{ID: id, Topic: topic, Source: "test", AggregateID: "agg-" + id.String()[:8],
			Data: map[string]string{"n": id.String()}}); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `UPDATE messaging.outbox SET `+set+` WHERE id = $1`, append([]any{id}, args...)...)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func message(topic, reason string) bus.Message {
	data, _ := json.Marshal(map[string]string{"n": "1"})
	return bus.Message{ID: uuid.NewString(), Type: topic, Source: "test", Subject: "agg-" + uuid.NewString()[:8],
		Time: time.Now().UTC(), Data: data, Reason: reason}
}

// The desk lists FAILED rows, events a consumer has not recorded and dead-lettered
// messages with why they are there, and replays them: rows back to PENDING with a fresh
// budget, messages published to their topic and taken off the dead-letter topic.
func TestListAndReplay(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		open func(t *testing.T, prefix string) backbone
	}{
		{"kafka", kafkaBackbone},
		{"pubsub", pubsubBackbone},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			prefix := "t" + uuid.NewString()[:8] + "-"
			b := tc.open(t, prefix)
			db := testenv.DB(t)
			desk := &deadletter.Desk{DB: db, After: 15 * time.Minute, Backbone: b.dl,
				Consumers: relay.Consumers{events.ProductCreated: {"opener"}, events.TradeCreated: {"room-opener"}}}

			failed := write(t, db, events.ProductCreated, `status = 'FAILED', attempts = 8, last_error = 'publish to x: broker down'`)
			undelivered := write(t, db, events.ProductCreated, `status = 'SENT', attempts = 2, sent_at = now() - interval '1 hour'`)
			recorded := write(t, db, events.ProductCreated, `status = 'SENT', attempts = 1, sent_at = now() - interval '1 hour'`)
			recent := write(t, db, events.ProductCreated, `status = 'SENT', attempts = 1, sent_at = now()`)
			if _, err := db.Exec(ctx, `INSERT INTO messaging.inbox (consumer, event_id, topic) VALUES ('opener', $1, 'product-created')`, recorded); err != nil {
				t.Fatal(err)
			}
			parked := message(events.TradeCreated, "consumer room-opener: 10 deliveries failed, last: status 500: boom")
			b.park(t, events.TradeCreated, parked)
			b.parkRaw(t, events.TradeCreated)
			var refused bus.Message
			if b.policy != nil {
				refused = message(events.ProductCreated, "")
				b.policy(t, events.ProductCreated, refused)
			}

			all, err := deadletter.Topics(nil)
			if err != nil {
				t.Fatal(err)
			}
			letters, err := desk.List(ctx, all)
			if err != nil {
				t.Fatal(err)
			}
			byID := map[string]deadletter.Letter{}
			var raw []deadletter.Letter
			for _, l := range letters {
				if !l.Replayable {
					raw = append(raw, l)
					continue
				}
				byID[l.EventID] = l
			}
			want := map[string]struct {
				kind    deadletter.Kind
				topic   string
				error   string
				missing []string
			}{
				failed.String():      {deadletter.Failed, events.ProductCreated, "publish to x: broker down", []string{"opener"}},
				undelivered.String(): {deadletter.Undelivered, events.ProductCreated, "sent 2 times", []string{"opener"}},
				parked.ID:            {deadletter.DeadLettered, events.TradeCreated, "10 deliveries failed, last: status 500: boom", nil},
			}
			if b.policy != nil {
				want[refused.ID] = struct {
					kind    deadletter.Kind
					topic   string
					error   string
					missing []string
				}{deadletter.DeadLettered, events.ProductCreated, "", nil} // the emulator names the subscription, pstest says nothing
			}
			for id, w := range want {
				l, ok := byID[id]
				if !ok {
					t.Errorf("%s (%s) not listed: %+v", id, w.kind, letters)
					continue
				}
				if l.Kind != w.kind || l.Topic != w.topic || l.Error == "" || !strings.Contains(l.Error, w.error) || !slices.Equal(l.Missing, w.missing) {
					t.Errorf("letter %s = %+v, want %+v", id, l, w)
				}
			}
			if len(byID) != len(want) {
				t.Errorf("%d replayable letters listed, want %d: %+v", len(byID), len(want), letters)
			}
			if len(raw) != 1 || raw[0].Topic != events.TradeCreated || !strings.Contains(raw[0].Error, "cannot be replayed") {
				t.Errorf("the raw message is listed as %+v", raw)
			}
			// Listing takes nothing off.
			if again, err := desk.List(ctx, all); err != nil || len(again) != len(letters) {
				t.Fatalf("second listing: %d letters, %v; want %d", len(again), err, len(letters))
			}

			res, err := desk.Replay(ctx, all)
			wantDead := 1
			if b.policy != nil {
				wantDead = 2
			}
			if err != nil || res.Failed != 1 || res.Undelivered != 1 || res.DeadLettered != wantDead || len(res.Left) != 1 {
				t.Fatalf("Replay = %+v, %v; want 1 failed, 1 undelivered, %d dead-lettered, 1 left", res, err, wantDead)
			}
			for id, status := range map[uuid.UUID]string{failed: "PENDING", undelivered: "PENDING", recorded: "SENT", recent: "SENT"} {
				var got string
				var attempts int
				if err := db.QueryRow(ctx, `SELECT status, attempts FROM messaging.outbox WHERE id = $1`, id).Scan(&got, &attempts); err != nil {
					t.Fatal(err)
				}
				if got != status || (status == "PENDING" && attempts != 0) {
					t.Errorf("row %s: %s with %d attempts, want %s", id, got, attempts, status)
				}
			}
			if ids := b.received(t, events.TradeCreated, 1); !slices.Equal(ids, []string{parked.ID}) {
				t.Errorf("trade-created received %v, want the parked event %s", ids, parked.ID)
			}
			if b.policy != nil {
				if ids := b.received(t, events.ProductCreated, 1); !slices.Equal(ids, []string{refused.ID}) {
					t.Errorf("product-created received %v, want the refused event %s", ids, refused.ID)
				}
			}
			after, err := desk.List(ctx, all)
			if err != nil {
				t.Fatal(err)
			}
			wantLeft := 0
			if b.rawStays {
				wantLeft = 1
			}
			if len(after) != wantLeft {
				t.Errorf("after the replay %d letters, want %d: %+v", len(after), wantLeft, after)
			}
		})
	}
}

// Topics are the catalogue's, named without prefix.
func TestTopics(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		only []string
		want int
		err  bool
	}{
		{nil, len(events.Topics()), false},
		{[]string{events.ProductCreated}, 1, false},
		{[]string{"prod-product-created"}, 0, true},
	} {
		got, err := deadletter.Topics(tc.only)
		if (err != nil) != tc.err || len(got) != tc.want {
			t.Errorf("Topics(%v) = %v, %v", tc.only, got, err)
		}
	}
}
