package relay

import (
	"context"
	"fmt"
	"os"
	"slices"
	"sync"
	"syscall"
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

// telemetryMode is how the process reports while a benchmark runs.
type telemetryMode struct {
	name string
	set  func()
}

// The two modes of BenchmarkRelayThroughput (otelkit.Deployed). off is a process with no
// exporter (the default): spans get ids and nothing is recorded, metrics record nothing.
// on is the deployed configuration: spans sampled at parentbased_traceidratio 0.1 into a
// batch span processor (to an exporter that drops them), metrics recorded by the SDK (a
// manual reader that nobody collects: the recording is the cost).
var (
	telemetryOff = telemetryMode{"off", func() { otelkit.Deployed(false) }}
	telemetryOn  = telemetryMode{"on", func() { otelkit.Deployed(true) }}
)

// BenchmarkRelayThroughput measures rows per second from committed outbox rows to
// acknowledged publishes on kfake, by claim batch size, with telemetry off and on. Each
// iteration drains rounds pairs of fills, one in each mode, alternating which goes first,
// so both modes see the same database, broker and load; on/off is the median of the
// pairs' ratios (a shared machine's load moves more than telemetry costs), rows/s the
// totals. CPU µs/row is the test process's CPU time (relay, kgo and the in-process
// broker; not PostgreSQL) per row drained: what telemetry adds, whatever else the
// machine runs.
func BenchmarkRelayThroughput(b *testing.B) {
	type result struct {
		off, on, ratio float64
		cpuOff, cpuOn  time.Duration // per row
	}
	const rounds = 6
	var mu sync.Mutex
	results := map[int]result{}
	b.Cleanup(func() {
		otelkit.RecordAll() // the tests' telemetry again
		w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(w, "\nrelay throughput (kfake, acks=all, idempotent)\tbatch\ttelemetry off rows/s\ton rows/s\ton/off (median of pairs)\tCPU µs/row off\ton\t")
		for _, batch := range []int{1, 100, 500} {
			if r, ok := results[batch]; ok {
				fmt.Fprintf(w, "\t%d\t%.0f\t%.0f\t%.3f\t%.1f\t%.1f\t\n", batch, r.off, r.on, r.ratio,
					float64(r.cpuOff.Nanoseconds())/1000, float64(r.cpuOn.Nanoseconds())/1000)
			}
		}
		_ = w.Flush()
	})
	for _, batch := range []int{1, 100, 500} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			tb := benchBundle(b)
			r := tb.relay(Options{BatchSize: batch})
			rows := 10_000
			if batch == 1 {
				rows = 1_000
			}
			ctx := context.Background()
			cpu := map[string]time.Duration{}
			drain := func(mode telemetryMode) time.Duration {
				b.StopTimer()
				mode.set()
				fill(b, tb, rows)
				b.StartTimer()
				cpuStart := cpuTime(b)
				start := time.Now()
				n, err := r.Drain(ctx)
				took := time.Since(start)
				cpu[mode.name] += cpuTime(b) - cpuStart
				if err != nil || n != rows {
					b.Fatalf("Drain = %d, %v; want %d", n, err, rows)
				}
				return took
			}
			var off, on time.Duration
			var ratios []float64
			for b.Loop() {
				for round := range rounds {
					var offTook, onTook time.Duration
					if round%2 == 0 {
						offTook, onTook = drain(telemetryOff), drain(telemetryOn)
					} else {
						onTook, offTook = drain(telemetryOn), drain(telemetryOff)
					}
					off, on = off+offTook, on+onTook
					ratios = append(ratios, offTook.Seconds()/onTook.Seconds()) // rows/s on over off
				}
			}
			slices.Sort(ratios)
			ratio := (ratios[(len(ratios)-1)/2] + ratios[len(ratios)/2]) / 2
			drained := rows * len(ratios)
			res := result{off: float64(drained) / off.Seconds(), on: float64(drained) / on.Seconds(), ratio: ratio,
				cpuOff: cpu["off"] / time.Duration(drained), cpuOn: cpu["on"] / time.Duration(drained)}
			b.ReportMetric(res.off, "rows/s-off")
			b.ReportMetric(res.on, "rows/s-on")
			b.ReportMetric(res.ratio, "on/off")
			mu.Lock()
			results[batch] = res
			mu.Unlock()
		})
	}
}

// cpuTime is the CPU time the process has used so far.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
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
