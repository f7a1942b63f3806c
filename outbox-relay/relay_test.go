package relay

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/kversion"

	"github.com/8949market/market/shared/bus"
	"github.com/8949market/market/shared/outbox"
	"github.com/8949market/market/shared/testenv"
)

// testBundle is a relay's world: a fresh database, an in-process Kafka whose produce
// requests can be made to fail, and a producer on it.
type testBundle struct {
	db      *pgxpool.Pool
	fake    *kfake.Cluster
	brokers []string
	prefix  string
	pub     *bus.Kafka
	// fail decides, per produced topic, whether the broker refuses it.
	fail atomic.Pointer[func(topic string) bool]
}

func setup(t *testing.T) *testBundle {
	t.Helper()
	b := &testBundle{db: testenv.DB(t), prefix: "t" + uuid.NewString()[:8] + "-"}
	fake, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.AllowAutoTopicCreation(), kfake.DefaultNumPartitions(4))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(fake.Close)
	b.fake, b.brokers = fake, fake.ListenAddrs()
	fake.ControlKey(int16(kmsg.Produce), func(req kmsg.Request) (kmsg.Response, error, bool) {
		fake.KeepControl()
		fail := b.fail.Load()
		if fail == nil {
			return nil, nil, false
		}
		r := req.(*kmsg.ProduceRequest)
		refuse := false
		for _, tp := range r.Topics {
			refuse = refuse || (*fail)(tp.Topic)
		}
		if !refuse {
			return nil, nil, false
		}
		resp := r.ResponseKind().(*kmsg.ProduceResponse)
		for _, tp := range r.Topics {
			rt := kmsg.NewProduceResponseTopic()
			rt.Topic, rt.TopicID = tp.Topic, tp.TopicID
			for _, p := range tp.Partitions {
				rp := kmsg.NewProduceResponseTopicPartition()
				rp.Partition, rp.ErrorCode = p.Partition, kerr.NotEnoughReplicas.Code
				rt.Partitions = append(rt.Partitions, rp)
			}
			resp.Topics = append(resp.Topics, rt)
		}
		return resp, nil, true
	})
	// Produce v12 names topics (v13 uses ids), so the control hook can read them; a short
	// delivery timeout turns a refusing broker into a failed publish quickly.
	pub, err := bus.NewKafka(b.brokers, kgo.MaxVersions(kversion.V3_6_0()), kgo.RecordDeliveryTimeout(time.Second), kgo.RecordRetries(1),
		kgo.MetadataMinAge(20*time.Millisecond), kgo.RetryBackoffFn(func(int) time.Duration { return 10 * time.Millisecond }))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pub.Close() })
	b.pub = pub
	return b
}

func (b *testBundle) failWhen(f func(topic string) bool) {
	if f == nil {
		b.fail.Store(nil)
		return
	}
	b.fail.Store(&f)
}

func (b *testBundle) relay(opts Options) *Relay {
	opts.TopicPrefix = b.prefix
	if opts.BackoffBase == 0 {
		opts.BackoffBase = 10 * time.Millisecond
	}
	if opts.BackoffMax == 0 {
		opts.BackoffMax = 50 * time.Millisecond
	}
	return New(b.db, b.pub, opts)
}

type testEvent struct {
	Aggregate string `json:"aggregate"`
	N         int    `json:"n"`
}

// write commits n events for each aggregate, interleaved, one transaction per event.
func (b *testBundle) write(t *testing.T, aggregates []string, n int) []uuid.UUID {
	t.Helper()
	ctx := context.Background()
	var ids []uuid.UUID
	for i := range n {
		for _, a := range aggregates {
			id := uuid.New()
			err := pgx.BeginFunc(ctx, b.db, func(tx pgx.Tx) error {
				return outbox.Write(ctx, tx, outbox.Event{ID: id, Topic: "product-created", Source: "test", AggregateID: a,
					Data: testEvent{Aggregate: a, N: i}})
			})
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, id)
		}
	}
	return ids
}

// consume reads topic from the start until want records arrived or the deadline.
func (b *testBundle) consume(t *testing.T, topic string, want int) []*kgo.Record {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(b.brokers...), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var recs []*kgo.Record
	for len(recs) < want {
		f := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("consumed %d of %d records from %s before the deadline", len(recs), want, topic)
		}
		recs = append(recs, f.Records()...)
	}
	return recs
}

func (b *testBundle) statusCounts(t *testing.T) map[string]int {
	t.Helper()
	rows, err := b.db.Query(context.Background(), `SELECT status, count(*) FROM messaging.outbox GROUP BY status`)
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	for rows.Next() {
		var s string
		var n int
		if err := rows.Scan(&s, &n); err != nil {
			t.Fatal(err)
		}
		counts[s] = n
	}
	return counts
}

func aggregates(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("agg-%03d", i)
	}
	return out
}

// checkOrder asserts every id was published, and that per aggregate the first
// publication of each event follows write order.
func checkOrder(t *testing.T, recs []*kgo.Record, ids []uuid.UUID, aggs []string, n int) (duplicates int) {
	t.Helper()
	seen := map[string]bool{}
	next := map[string]int{}
	for _, r := range recs {
		m, err := bus.FromKafka(r)
		if err != nil {
			t.Fatal(err)
		}
		if seen[m.ID] {
			duplicates++
			continue
		}
		seen[m.ID] = true
		var e testEvent
		if err := json.Unmarshal(m.Data, &e); err != nil {
			t.Fatal(err)
		}
		if string(r.Key) != e.Aggregate || m.Subject != e.Aggregate {
			t.Fatalf("record key %q subject %q for aggregate %q", r.Key, m.Subject, e.Aggregate)
		}
		if e.N != next[e.Aggregate] {
			t.Fatalf("aggregate %s: event %d published before event %d", e.Aggregate, e.N, next[e.Aggregate])
		}
		next[e.Aggregate]++
	}
	for _, id := range ids {
		if !seen[id.String()] {
			t.Fatalf("event %s never published", id)
		}
	}
	for _, a := range aggs {
		if next[a] != n {
			t.Fatalf("aggregate %s: %d of %d events", a, next[a], n)
		}
	}
	return duplicates
}

func TestDrainPublishesCloudEventsOnce(t *testing.T) {
	t.Parallel()
	b := setup(t)
	aggs := aggregates(3)
	ids := b.write(t, aggs, 4)
	n, err := b.relay(Options{BatchSize: 5}).Drain(context.Background())
	if err != nil || n != len(ids) {
		t.Fatalf("Drain = %d, %v; want %d", n, err, len(ids))
	}
	if c := b.statusCounts(t); c["SENT"] != len(ids) || len(c) != 1 {
		t.Fatalf("statuses %v", c)
	}
	recs := b.consume(t, b.prefix+"product-created", len(ids))
	if dups := checkOrder(t, recs, ids, aggs, 4); dups != 0 {
		t.Fatalf("%d duplicates", dups)
	}
	m, _ := bus.FromKafka(recs[0])
	if m.Type != "product-created" || m.Source != "test" || m.Time.IsZero() {
		t.Errorf("cloudevent attributes %+v", m)
	}
	// Nothing left: a second drain publishes nothing.
	if n, err := b.relay(Options{}).Drain(context.Background()); n != 0 || err != nil {
		t.Fatalf("second Drain = %d, %v", n, err)
	}
}

// A relay that claimed rows and died before publishing loses nothing: when its lease
// expires another relay publishes them.
func TestCrashBetweenClaimAndPublish(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	ids := b.write(t, aggregates(5), 2)
	dead := b.relay(Options{Lease: 400 * time.Millisecond, Instance: "dead"})
	claimed, err := dead.claim(ctx) // ... and never publishes
	if err != nil || len(claimed) != len(ids) {
		t.Fatalf("claim = %d rows, %v", len(claimed), err)
	}
	alive := b.relay(Options{Instance: "alive"})
	if n, err := alive.Drain(ctx); n != 0 || err != nil {
		t.Fatalf("Drain during the lease = %d, %v; want 0 (rows are leased)", n, err)
	}
	testenv.Eventually(t, 5*time.Second, "rows published after the lease expired", func() bool {
		n, err := alive.Drain(ctx)
		return err == nil && n == len(ids)
	})
	recs := b.consume(t, b.prefix+"product-created", len(ids))
	if dups := checkOrder(t, recs, ids, aggregates(5), 2); dups != 0 {
		t.Fatalf("%d duplicates", dups)
	}
}

// Several relays at once publish each row exactly once in the normal path, and each
// aggregate in order.
func TestConcurrentRelays(t *testing.T) {
	t.Parallel()
	b := setup(t)
	aggs := aggregates(40)
	ids := b.write(t, aggs, 15)
	ctx := context.Background()
	start := make(chan struct{})
	var wg sync.WaitGroup
	var published atomic.Int64
	for i := range 4 {
		r := b.relay(Options{BatchSize: 25, Instance: fmt.Sprintf("relay-%d", i)})
		wg.Go(func() {
			<-start
			for published.Load() < int64(len(ids)) {
				n, err := r.Drain(ctx)
				if err != nil {
					t.Error(err)
					return
				}
				published.Add(int64(n))
			}
		})
	}
	close(start)
	wg.Wait()
	if published.Load() != int64(len(ids)) {
		t.Fatalf("published %d rows, want %d", published.Load(), len(ids))
	}
	recs := b.consume(t, b.prefix+"product-created", len(ids))
	if dups := checkOrder(t, recs, ids, aggs, 15); dups != 0 || len(recs) != len(ids) {
		t.Fatalf("%d duplicates, %d records", dups, len(recs))
	}
}

// Under load with a broker that refuses a fifth of the produce requests, every event is
// published and each aggregate's events first appear in write order.
func TestOrderingPerAggregateUnderFailures(t *testing.T) {
	t.Parallel()
	b := setup(t)
	aggs := aggregates(20)
	ids := b.write(t, aggs, 20)
	var mu sync.Mutex
	rng := rand.New(rand.NewPCG(1, 2))
	b.failWhen(func(string) bool {
		mu.Lock()
		defer mu.Unlock()
		return rng.IntN(5) == 0
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	for i := range 3 {
		r := b.relay(Options{BatchSize: 30, MaxAttempts: 1000, PollInterval: 20 * time.Millisecond, Instance: fmt.Sprintf("r%d", i)})
		wg.Go(func() { _ = r.Run(ctx) })
	}
	testenv.Eventually(t, 60*time.Second, "every row sent", func() bool { return b.statusCounts(t)["SENT"] == len(ids) })
	cancel()
	wg.Wait()
	b.failWhen(nil)
	recs := b.consume(t, b.prefix+"product-created", len(ids))
	dups := checkOrder(t, recs, ids, aggs, 20)
	t.Logf("%d records for %d events (%d duplicates from retried publishes)", len(recs), len(ids), dups)
}

// A row the broker keeps refusing is marked FAILED after MaxAttempts and parked on the
// topic's dead-letter topic; the rows behind it in its aggregate then go on.
func TestDeadLetterAfterMaxAttempts(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	poison := uuid.New()
	if err := pgx.BeginFunc(ctx, b.db, func(tx pgx.Tx) error {
		if err := outbox.Write(ctx, tx, outbox.Event{ID: poison, Topic: "trade-created", Source: "test", AggregateID: "agg-x", Data: testEvent{"agg-x", 0}}); err != nil {
			return err
		}
		return outbox.Write(ctx, tx, outbox.Event{Topic: "product-created", Source: "test", AggregateID: "agg-x", Data: testEvent{"agg-x", 1}})
	}); err != nil {
		t.Fatal(err)
	}
	b.failWhen(func(topic string) bool { return topic == b.prefix+"trade-created" })
	r := b.relay(Options{MaxAttempts: 3})
	testenv.Eventually(t, 20*time.Second, "poison row failed and the next one sent", func() bool {
		_, _ = r.Drain(ctx)
		c := b.statusCounts(t)
		return c["FAILED"] == 1 && c["SENT"] == 1
	})
	var attempts int
	var lastError string
	if err := b.db.QueryRow(ctx, `SELECT attempts, last_error FROM messaging.outbox WHERE id = $1`, poison).Scan(&attempts, &lastError); err != nil {
		t.Fatal(err)
	}
	if attempts != 3 || lastError == "" {
		t.Errorf("poison row attempts %d, last error %q", attempts, lastError)
	}
	recs := b.consume(t, b.prefix+"trade-created.dlt", 1)
	m, err := bus.FromKafka(recs[0])
	if err != nil || m.ID != poison.String() || m.Reason == "" || m.Type != "trade-created" {
		t.Fatalf("dead letter %+v, %v", m, err)
	}
}

// A broker that is down for a while loses nothing: rows back off and go out when it is
// back.
func TestBrokerDownThenBack(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	b.failWhen(func(string) bool { return true })
	r := b.relay(Options{MaxAttempts: 1000, PollInterval: 20 * time.Millisecond})
	done := make(chan struct{})
	go func() { _ = r.Run(ctx); close(done) }()
	aggs := aggregates(4)
	ids := b.write(t, aggs, 5)
	testenv.Eventually(t, 30*time.Second, "publishes attempted while the broker is down", func() bool {
		var failedAttempts int
		_ = b.db.QueryRow(ctx, `SELECT count(*) FROM messaging.outbox WHERE attempts >= 1 AND status = 'PENDING'`).Scan(&failedAttempts)
		return failedAttempts > 0
	})
	if c := b.statusCounts(t); c["SENT"] != 0 {
		t.Fatalf("sent while the broker was down: %v", c)
	}
	b.failWhen(nil)
	testenv.Eventually(t, 20*time.Second, "every row sent after the broker came back", func() bool { return b.statusCounts(t)["SENT"] == len(ids) })
	cancel()
	<-done
	recs := b.consume(t, b.prefix+"product-created", len(ids))
	checkOrder(t, recs, ids, aggs, 5)
}

func TestPrune(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	b.write(t, aggregates(3), 2)
	if _, err := b.relay(Options{}).Drain(ctx); err != nil {
		t.Fatal(err)
	}
	b.write(t, aggregates(1), 1) // pending: never pruned
	if _, err := b.db.Exec(ctx, `UPDATE messaging.outbox SET sent_at = now() - interval '4 days' WHERE status = 'SENT' AND aggregate_id = 'agg-000'`); err != nil {
		t.Fatal(err)
	}
	o, _, err := b.relay(Options{Retention: 72 * time.Hour}).Prune(ctx)
	if err != nil || o != 2 {
		t.Fatalf("Prune = %d, %v; want 2 old sent rows", o, err)
	}
	if c := b.statusCounts(t); c["SENT"] != 4 || c["PENDING"] != 1 {
		t.Fatalf("after prune %v", c)
	}
}

func TestTopics(t *testing.T) {
	t.Parallel()
	got := Topics("dev-", []string{"b", "a"})
	if want := []string{"dev-a", "dev-a.dlt", "dev-b", "dev-b.dlt"}; !slices.Equal(got, want) {
		t.Fatalf("Topics = %v", got)
	}
}
