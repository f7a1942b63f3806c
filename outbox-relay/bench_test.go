package relay

import (
	"context"
	"fmt"
	"os"
	"slices"
	"sync"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/8949market/market/shared/bus"
	"github.com/8949market/market/shared/outbox"
	"github.com/8949market/market/shared/testenv"
)

// benchBundle is a database and a kfake cluster with the default producer settings
// (acks=all, idempotent), as the relay runs in production.
func benchBundle(b *testing.B) *testBundle {
	b.Helper()
	tb := &testBundle{db: testenv.DB(b), prefix: "bench-" + uuid.NewString()[:8] + "-"}
	fake, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.AllowAutoTopicCreation(), kfake.DefaultNumPartitions(bus.KafkaPartitions))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(fake.Close)
	tb.fake, tb.brokers = fake, fake.ListenAddrs()
	pub, err := bus.NewKafka(tb.brokers)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = pub.Close() })
	tb.pub = pub
	if err := pub.EnsureTopics(context.Background(), []string{tb.prefix + "product-created"}); err != nil {
		b.Fatal(err)
	}
	return tb
}

// fill commits n outbox rows over 1,000 aggregates in one statement.
func fill(b *testing.B, tb *testBundle, n int) {
	b.Helper()
	_, err := tb.db.Exec(context.Background(), `
		INSERT INTO messaging.outbox (id, topic, source, aggregate_id, payload)
		SELECT gen_random_uuid(), 'product-created', 'bench', 'agg-' || (i % 1000),
		       jsonb_build_object('n', i, 'name', 'a product name of ordinary length', 'price', 120000)
		  FROM generate_series(1, $1) AS i`, n)
	if err != nil {
		b.Fatal(err)
	}
}

// BenchmarkRelayThroughput measures rows per second from committed outbox rows to
// acknowledged publishes on kfake, by claim batch size.
func BenchmarkRelayThroughput(b *testing.B) {
	type result struct {
		batch      int
		rowsPerSec float64
	}
	var mu sync.Mutex
	results := map[int]result{}
	b.Cleanup(func() {
		w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(w, "\nrelay throughput (kfake, acks=all, idempotent)\tbatch\trows/s\t")
		for _, batch := range []int{1, 100, 500} {
			if r, ok := results[batch]; ok {
				fmt.Fprintf(w, "\t%d\t%.0f\t\n", r.batch, r.rowsPerSec)
			}
		}
		_ = w.Flush()
	})
	for _, batch := range []int{1, 100, 500} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			tb := benchBundle(b)
			r := tb.relay(Options{BatchSize: batch})
			rows := 20_000
			if batch == 1 {
				rows = 1_000
			}
			ctx := context.Background()
			var total int
			var elapsed time.Duration
			for b.Loop() {
				b.StopTimer()
				fill(b, tb, rows)
				b.StartTimer()
				start := time.Now()
				n, err := r.Drain(ctx)
				elapsed += time.Since(start)
				if err != nil || n != rows {
					b.Fatalf("Drain = %d, %v; want %d", n, err, rows)
				}
				total += n
			}
			rate := float64(total) / elapsed.Seconds()
			b.ReportMetric(rate, "rows/s")
			mu.Lock()
			results[batch] = result{batch, rate}
			mu.Unlock()
		})
	}
}

// timedPublisher records when each message was acknowledged.
type timedPublisher struct {
	bus.Publisher
	mu    sync.Mutex
	acked map[string]time.Time
}

func (p *timedPublisher) Publish(ctx context.Context, msgs []bus.Message) []error {
	errs := p.Publisher.Publish(ctx, msgs)
	now := time.Now()
	p.mu.Lock()
	for i, m := range msgs {
		if errs[i] == nil {
			p.acked[m.ID] = now
		}
	}
	p.mu.Unlock()
	return errs
}

// BenchmarkRelayLatency measures commit-to-acknowledged-publish latency at low load
// (200 events/s, one per transaction) with the relay woken by LISTEN/NOTIFY; the poll
// fallback is set far out so it cannot help.
func BenchmarkRelayLatency(b *testing.B) {
	tb := benchBundle(b)
	pub := &timedPublisher{Publisher: tb.pub, acked: map[string]time.Time{}}
	r := New(tb.db, pub, Options{TopicPrefix: tb.prefix, PollInterval: time.Minute})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = r.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	time.Sleep(200 * time.Millisecond) // let the listener connect before the first commit

	const events = 400
	committed := map[string]time.Time{}
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for b.Loop() {
		for i := range events {
			<-tick.C
			id := uuid.New()
			err := pgx.BeginFunc(ctx, tb.db, func(tx pgx.Tx) error {
				return outbox.Write(ctx, tx, outbox.Event{ID: id, Topic: "product-created", Source: "bench",
					AggregateID: fmt.Sprintf("agg-%d", i%50), Data: map[string]int{"n": i}})
			})
			if err != nil {
				b.Fatal(err)
			}
			committed[id.String()] = time.Now()
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	var lat []time.Duration
	for {
		pub.mu.Lock()
		lat = lat[:0]
		for id, c := range committed {
			if a, ok := pub.acked[id]; ok {
				lat = append(lat, a.Sub(c))
			}
		}
		pub.mu.Unlock()
		if len(lat) == len(committed) || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if len(lat) != len(committed) {
		b.Fatalf("%d of %d events published", len(lat), len(committed))
	}
	slices.Sort(lat)
	p := func(q float64) time.Duration { return lat[int(q*float64(len(lat)-1))] }
	b.ReportMetric(float64(p(0.50).Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(p(0.99).Microseconds())/1000, "p99-ms")
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(w, "\nrelay latency, commit to publish ack (NOTIFY wake-up, 200 events/s)\tevents\tp50\tp99\tmax\t\n")
	fmt.Fprintf(w, "\t%d\t%v\t%v\t%v\t\n", len(lat), p(0.50).Round(10*time.Microsecond), p(0.99).Round(10*time.Microsecond), lat[len(lat)-1].Round(10*time.Microsecond))
	_ = w.Flush()
}
