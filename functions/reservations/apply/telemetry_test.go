package apply_test

import (
	"context"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/devstack/stacktest"
	rt "github.com/8949market/market/shared/reservations/reservationtest"
	"github.com/8949market/market/shared/telemetry"
)

// The tests record every span (spans) and read the metrics on demand (metrics); the storm
// benchmark switches both off and on (stormTelemetry).
var (
	spans     = tracetest.NewSpanRecorder()
	recording = sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	metrics   = sdkmetric.NewManualReader()
	metricsOn atomic.Bool
)

func TestMain(m *testing.M) {
	telemetry.SetTracerProvider(recording)
	metricsOn.Store(true)
	otel.SetMeterProvider(switchMeters{sdkmetric.NewMeterProvider(sdkmetric.WithReader(metrics))})
	os.Exit(m.Run())
}

// The admission counts each answer by outcome and the place of each queued applicant, and
// a batch of queued applicants has a span of its own, in the trace of one request it
// serves and linked both ways with the others. Not parallel: it reads the process's
// metrics before and after, which the parallel tests would move meanwhile.
func TestAdmissionTelemetry(t *testing.T) {
	st := stacktest.Start(t)
	id, _ := openDeal(t, st, -time.Second, time.Hour)
	buyers, queued, refused := admissions(t, "buyer"), admissions(t, "queued"), admissions(t, "refused")
	places, placeSum := positions(t)

	first, _ := st.Token(t, auth.RoleUser)
	if res, app := rt.Apply(t, st, id, first); res.Status != http.StatusOK || app.Status != "SELECTED" {
		t.Fatalf("first apply: %d %+v", res.Status, app)
	}
	if n := admissions(t, "buyer"); n != buyers+1 {
		t.Fatalf("%d buyers counted, want %d", n, buyers+1)
	}
	var traces []trace.TraceID
	for want := int64(1); want <= 2; want++ {
		token, _ := st.Token(t, auth.RoleUser)
		res, app := rt.Apply(t, st, id, token)
		if res.Status != http.StatusOK || app.Status != "WAITING" || app.Position != want {
			t.Fatalf("apply %d: %d %+v", want+1, res.Status, app)
		}
		traces = append(traces, traceOf(t, res))
	}
	if res, _ := rt.Apply(t, st, id, first); res.Status != http.StatusConflict {
		t.Fatalf("second apply of the buyer: %d, want 409", res.Status)
	}
	if b, q, r := admissions(t, "buyer"), admissions(t, "queued"), admissions(t, "refused"); b != buyers+1 || q != queued+2 || r != refused+1 {
		t.Fatalf("admissions buyer %d queued %d refused %d, want %d %d %d", b, q, r, buyers+1, queued+2, refused+1)
	}
	if n, s := positions(t); n != places+2 || s != placeSum+3 {
		t.Fatalf("%d queue positions summing to %d, want %d summing to %d", n, s, places+2, placeSum+3)
	}
	// An applicant alone is written at once, in a batch of one under its request.
	for i, tr := range traces {
		b := batchIn(t, tr)
		if b == nil || size(b) != 1 || len(b.Links()) != 0 {
			t.Fatalf("applicant %d: batch span %v, want one of size 1 in its request's trace", i+2, b)
		}
		if sqlUnder(b) == 0 {
			t.Fatalf("applicant %d: no SQL statement under its batch", i+2)
		}
		if s := serverSpan(t, tr); s == nil || attr(s.Attributes(), "market.outcome") != "queued" ||
			attr(s.Attributes(), "market.reservation.position") != int64(i+1) {
			t.Fatalf("applicant %d: request span %v, want outcome queued at place %d", i+2, s, i+1)
		}
	}

	// Applicants at once: however they were batched, each batch sits in the trace of one
	// of them and links the others, which link back.
	const n = 30
	var wg sync.WaitGroup
	burst := make([]trace.TraceID, n)
	tokens := make([]string, n)
	for i := range tokens {
		tokens[i], _ = st.Token(t, auth.RoleUser)
	}
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			res := stacktest.Do(t, http.DefaultClient, http.MethodPatch, st.URL+"/api/v1/reservations/"+id.String(), nil, tokens[i])
			if res.Status != http.StatusOK {
				t.Errorf("burst apply %d: %d %s", i, res.Status, res.Body)
			}
			burst[i] = traceOf(t, res)
		})
	}
	close(start)
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	served, batches := 0, 0
	for _, tr := range burst {
		b := batchIn(t, tr)
		if b == nil {
			continue // its batch is in another applicant's trace
		}
		if len(b.Links()) != size(b)-1 {
			t.Fatalf("a batch of %d links %d requests, want %d", size(b), len(b.Links()), size(b)-1)
		}
		for _, l := range b.Links() {
			linked := serverSpan(t, l.SpanContext.TraceID())
			if linked == nil || len(linked.Links()) != 1 || linked.Links()[0].SpanContext.SpanID() != b.SpanContext().SpanID() {
				t.Fatalf("request %s linked by a batch does not link back to it", l.SpanContext.TraceID())
			}
		}
		served += size(b)
		batches++
	}
	t.Logf("%d applicants at once went in %d batches", n, batches)
	if served != n {
		t.Fatalf("batches served %d applicants, want %d", served, n)
	}
	if q := admissions(t, "queued"); q != queued+2+n {
		t.Fatalf("%d queued counted, want %d", q, queued+2+n)
	}
}

// traceOf is the trace of an answered request (its X-Trace-Id).
func traceOf(t *testing.T, res stacktest.Response) trace.TraceID {
	t.Helper()
	id, err := trace.TraceIDFromHex(res.Header.Get("X-Trace-Id"))
	if err != nil {
		t.Fatalf("X-Trace-Id %q: %v", res.Header.Get("X-Trace-Id"), err)
	}
	return id
}

// batchIn is the batch span of trace tr, nil if none.
func batchIn(t *testing.T, tr trace.TraceID) sdktrace.ReadOnlySpan {
	t.Helper()
	for _, s := range spans.Ended() {
		if s.Name() == "reservations.batch" && s.SpanContext().TraceID() == tr {
			return s
		}
	}
	return nil
}

// serverSpan is the function's server span in trace tr (the one the admission names its
// outcome on), nil if none.
func serverSpan(t *testing.T, tr trace.TraceID) sdktrace.ReadOnlySpan {
	t.Helper()
	for _, s := range spans.Ended() {
		if s.SpanContext().TraceID() == tr && s.SpanKind() == trace.SpanKindServer && s.Name() == "reservations-apply" {
			return s
		}
	}
	return nil
}

func size(s sdktrace.ReadOnlySpan) int {
	n, _ := attr(s.Attributes(), "market.batch.size").(int64)
	return int(n)
}

// sqlUnder counts the SQL statements whose parent is s.
func sqlUnder(s sdktrace.ReadOnlySpan) int {
	n := 0
	for _, c := range spans.Ended() {
		if c.Parent().SpanID() == s.SpanContext().SpanID() && attr(c.Attributes(), "db.query.text") != nil {
			n++
		}
	}
	return n
}

func attr(attrs []attribute.KeyValue, key string) any {
	for _, a := range attrs {
		if string(a.Key) == key {
			return a.Value.AsInterface()
		}
	}
	return nil
}

// collect reads the metric called name, nil when nothing recorded it yet.
func collect(t *testing.T, name string) *metricdata.Metrics {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := metrics.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	for _, sm := range rm.ScopeMetrics {
		for i := range sm.Metrics {
			if sm.Metrics[i].Name == name {
				return &sm.Metrics[i]
			}
		}
	}
	return nil
}

// admissions is market.reservations.admissions of outcome.
func admissions(t *testing.T, outcome string) int64 {
	t.Helper()
	m := collect(t, "market.reservations.admissions")
	if m == nil {
		return 0
	}
	var n int64
	for _, p := range m.Data.(metricdata.Sum[int64]).DataPoints {
		if v, _ := p.Attributes.Value("outcome"); v.AsString() == outcome {
			n += p.Value
		}
	}
	return n
}

// positions is how many queue positions were recorded, and their sum.
func positions(t *testing.T) (uint64, int64) {
	t.Helper()
	m := collect(t, "market.reservations.queue.position")
	if m == nil {
		return 0, 0
	}
	var n uint64
	var s int64
	for _, p := range m.Data.(metricdata.Histogram[int64]).DataPoints {
		n, s = n+p.Count, s+p.Sum
	}
	return n, s
}

// switchMeters is the SDK's meter provider whose synchronous instruments record only
// while metricsOn: OpenTelemetry's global meter provider is set once, and the instruments
// made before it (every package's) bind to it for good, so the benchmark switches here.
type switchMeters struct{ *sdkmetric.MeterProvider }

func (p switchMeters) Meter(name string, opts ...metric.MeterOption) metric.Meter {
	return switchMeter{p.MeterProvider.Meter(name, opts...)}
}

type switchMeter struct{ metric.Meter }

func (m switchMeter) Int64Counter(name string, opts ...metric.Int64CounterOption) (metric.Int64Counter, error) {
	i, err := m.Meter.Int64Counter(name, opts...)
	return switchInt64Counter{i}, err
}

type switchInt64Counter struct{ metric.Int64Counter }

func (i switchInt64Counter) Add(ctx context.Context, v int64, opts ...metric.AddOption) {
	if metricsOn.Load() {
		i.Int64Counter.Add(ctx, v, opts...)
	}
}

func (i switchInt64Counter) Enabled(ctx context.Context) bool {
	return metricsOn.Load() && i.Int64Counter.Enabled(ctx)
}

func (m switchMeter) Float64Counter(name string, opts ...metric.Float64CounterOption) (metric.Float64Counter, error) {
	i, err := m.Meter.Float64Counter(name, opts...)
	return switchFloat64Counter{i}, err
}

type switchFloat64Counter struct{ metric.Float64Counter }

func (i switchFloat64Counter) Add(ctx context.Context, v float64, opts ...metric.AddOption) {
	if metricsOn.Load() {
		i.Float64Counter.Add(ctx, v, opts...)
	}
}

func (i switchFloat64Counter) Enabled(ctx context.Context) bool {
	return metricsOn.Load() && i.Float64Counter.Enabled(ctx)
}

func (m switchMeter) Int64UpDownCounter(name string, opts ...metric.Int64UpDownCounterOption) (metric.Int64UpDownCounter, error) {
	i, err := m.Meter.Int64UpDownCounter(name, opts...)
	return switchInt64UpDownCounter{i}, err
}

type switchInt64UpDownCounter struct{ metric.Int64UpDownCounter }

func (i switchInt64UpDownCounter) Add(ctx context.Context, v int64, opts ...metric.AddOption) {
	if metricsOn.Load() {
		i.Int64UpDownCounter.Add(ctx, v, opts...)
	}
}

func (i switchInt64UpDownCounter) Enabled(ctx context.Context) bool {
	return metricsOn.Load() && i.Int64UpDownCounter.Enabled(ctx)
}

func (m switchMeter) Float64UpDownCounter(name string, opts ...metric.Float64UpDownCounterOption) (metric.Float64UpDownCounter, error) {
	i, err := m.Meter.Float64UpDownCounter(name, opts...)
	return switchFloat64UpDownCounter{i}, err
}

type switchFloat64UpDownCounter struct{ metric.Float64UpDownCounter }

func (i switchFloat64UpDownCounter) Add(ctx context.Context, v float64, opts ...metric.AddOption) {
	if metricsOn.Load() {
		i.Float64UpDownCounter.Add(ctx, v, opts...)
	}
}

func (i switchFloat64UpDownCounter) Enabled(ctx context.Context) bool {
	return metricsOn.Load() && i.Float64UpDownCounter.Enabled(ctx)
}

func (m switchMeter) Int64Histogram(name string, opts ...metric.Int64HistogramOption) (metric.Int64Histogram, error) {
	i, err := m.Meter.Int64Histogram(name, opts...)
	return switchInt64Histogram{i}, err
}

type switchInt64Histogram struct{ metric.Int64Histogram }

func (i switchInt64Histogram) Record(ctx context.Context, v int64, opts ...metric.RecordOption) {
	if metricsOn.Load() {
		i.Int64Histogram.Record(ctx, v, opts...)
	}
}

func (i switchInt64Histogram) Enabled(ctx context.Context) bool {
	return metricsOn.Load() && i.Int64Histogram.Enabled(ctx)
}

func (m switchMeter) Float64Histogram(name string, opts ...metric.Float64HistogramOption) (metric.Float64Histogram, error) {
	i, err := m.Meter.Float64Histogram(name, opts...)
	return switchFloat64Histogram{i}, err
}

type switchFloat64Histogram struct{ metric.Float64Histogram }

func (i switchFloat64Histogram) Record(ctx context.Context, v float64, opts ...metric.RecordOption) {
	if metricsOn.Load() {
		i.Float64Histogram.Record(ctx, v, opts...)
	}
}

func (i switchFloat64Histogram) Enabled(ctx context.Context) bool {
	return metricsOn.Load() && i.Float64Histogram.Enabled(ctx)
}

func (m switchMeter) Int64Gauge(name string, opts ...metric.Int64GaugeOption) (metric.Int64Gauge, error) {
	i, err := m.Meter.Int64Gauge(name, opts...)
	return switchInt64Gauge{i}, err
}

type switchInt64Gauge struct{ metric.Int64Gauge }

func (i switchInt64Gauge) Record(ctx context.Context, v int64, opts ...metric.RecordOption) {
	if metricsOn.Load() {
		i.Int64Gauge.Record(ctx, v, opts...)
	}
}

func (i switchInt64Gauge) Enabled(ctx context.Context) bool {
	return metricsOn.Load() && i.Int64Gauge.Enabled(ctx)
}

func (m switchMeter) Float64Gauge(name string, opts ...metric.Float64GaugeOption) (metric.Float64Gauge, error) {
	i, err := m.Meter.Float64Gauge(name, opts...)
	return switchFloat64Gauge{i}, err
}

type switchFloat64Gauge struct{ metric.Float64Gauge }

func (i switchFloat64Gauge) Record(ctx context.Context, v float64, opts ...metric.RecordOption) {
	if metricsOn.Load() {
		i.Float64Gauge.Record(ctx, v, opts...)
	}
}

func (i switchFloat64Gauge) Enabled(ctx context.Context) bool {
	return metricsOn.Load() && i.Float64Gauge.Enabled(ctx)
}
