// Package telemetrytest records what a test binary's process reports: every span it
// ends and every metric it records, read on demand. It is the one telemetry harness of
// the tests: OpenTelemetry's global meter provider can be set once per process, and the
// instruments made before (every package's, at initialisation) bind to it for good, so
// each test binary installs this kit once and switches it rather than the provider.
//
// A test package installs it at initialisation and reads it in its tests:
//
//	var otelkit = telemetrytest.Install()
//
//	func TestPublishCounted(t *testing.T) {
//		before := otelkit.Counter(t, "market.relay.published", attribute.String("topic", "t"))
//		// ... publish once ...
//		if n := otelkit.Counter(t, "market.relay.published", attribute.String("topic", "t")); n != before+1 {
//			t.Fatalf("%d published, want %d", n, before+1)
//		}
//	}
//
// A benchmark that compares telemetry off and on as deployed switches with Deployed, and
// gives the tests their recording back when it ends:
//
//	otelkit.Deployed(false)
//	b.Cleanup(otelkit.RecordAll)
//
// Metrics are the process's: a test reading a counter before and after is not parallel
// with the tests that move it.
package telemetrytest

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/8949market/market/shared/telemetry"
)

// Kit is the process's recording telemetry, as Install set it up.
type Kit struct {
	spans     *tracetest.SpanRecorder
	recording *sdktrace.TracerProvider
	reader    *sdkmetric.ManualReader
	metricsOn atomic.Bool

	deployed           sync.Once
	deployedOn, idsOff *sdktrace.TracerProvider
}

var (
	installed *Kit
	once      sync.Once
)

// Install installs the kit as the process's tracer provider (telemetry.SetTracerProvider)
// and global meter provider (otel.SetMeterProvider), recording everything (RecordAll),
// and returns it. Only the first call installs; every call returns the same kit.
func Install() *Kit {
	once.Do(func() {
		k := &Kit{spans: tracetest.NewSpanRecorder(), reader: sdkmetric.NewManualReader()}
		k.recording = sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.AlwaysSample()),
			sdktrace.WithSpanProcessor(k.spans))
		otel.SetMeterProvider(switchMeters{sdkmetric.NewMeterProvider(sdkmetric.WithReader(k.reader)), &k.metricsOn})
		k.RecordAll()
		installed = k
	})
	return installed
}

// RecordAll is the tests' telemetry, Install's default: every span sampled and recorded
// (Ended and the other readers see it once ended), every metric recorded.
func (k *Kit) RecordAll() {
	telemetry.SetTracerProvider(k.recording)
	k.metricsOn.Store(true)
}

// Deployed switches the process to what a benchmark compares. On is the deployed
// configuration: one trace in ten sampled (OTEL_TRACES_SAMPLER parentbased_traceidratio,
// OTEL_TRACES_SAMPLER_ARG 0.1) into a batch span processor, to an exporter that discards
// what it is given, and every metric recorded by the SDK (into a reader nobody collects:
// the recording is the cost). Off is what telemetry.Start installs with no exporter:
// spans get ids and nothing is sampled, and no metric is recorded. Nothing of either is
// read by the kit's readers; RecordAll switches back.
func (k *Kit) Deployed(on bool) {
	k.deployed.Do(func() {
		k.deployedOn = sdktrace.NewTracerProvider(sdktrace.WithBatcher(tracetest.NewNoopExporter()),
			sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.TraceIDRatioBased(0.1))))
		k.idsOff = sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.NeverSample())))
	})
	if on {
		telemetry.SetTracerProvider(k.deployedOn)
	} else {
		telemetry.SetTracerProvider(k.idsOff)
	}
	k.metricsOn.Store(on)
}

// Ended is every span ended while recording, oldest first.
func (k *Kit) Ended() []sdktrace.ReadOnlySpan { return k.spans.Ended() }

// Span is the ended span with id, if any.
func (k *Kit) Span(id trace.SpanID) (sdktrace.ReadOnlySpan, bool) {
	for _, s := range k.spans.Ended() {
		if s.SpanContext().SpanID() == id {
			return s, true
		}
	}
	return nil, false
}

// Named is the ended spans called name whose attributes include every one of attrs.
func (k *Kit) Named(name string, attrs ...attribute.KeyValue) []sdktrace.ReadOnlySpan {
	return k.ended(func(s sdktrace.ReadOnlySpan) bool {
		return s.Name() == name && includes(attribute.NewSet(s.Attributes()...), attrs)
	})
}

// InTrace is the ended spans of trace id.
func (k *Kit) InTrace(id trace.TraceID) []sdktrace.ReadOnlySpan {
	return k.ended(func(s sdktrace.ReadOnlySpan) bool { return s.SpanContext().TraceID() == id })
}

// Children is the ended spans whose parent is the span id.
func (k *Kit) Children(id trace.SpanID) []sdktrace.ReadOnlySpan {
	return k.ended(func(s sdktrace.ReadOnlySpan) bool { return s.Parent().SpanID() == id })
}

func (k *Kit) ended(keep func(sdktrace.ReadOnlySpan) bool) []sdktrace.ReadOnlySpan {
	var out []sdktrace.ReadOnlySpan
	for _, s := range k.spans.Ended() {
		if keep(s) {
			out = append(out, s)
		}
	}
	return out
}

// Attr is the value of span s's attribute key, and whether s has it.
func Attr(s sdktrace.ReadOnlySpan, key string) (attribute.Value, bool) {
	for _, a := range s.Attributes() {
		if string(a.Key) == key {
			return a.Value, true
		}
	}
	return attribute.Value{}, false
}

// Metric reads the metric called name now, nil when nothing recorded it yet.
func (k *Kit) Metric(t testing.TB, name string) *metricdata.Metrics {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := k.reader.Collect(context.Background(), &rm); err != nil {
		t.Fatalf("collect metrics: %v", err)
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

// Counter is the sum of the int64 counter or up-down counter name over its points whose
// attributes include every one of attrs; 0 when nothing recorded it yet.
func (k *Kit) Counter(t testing.TB, name string, attrs ...attribute.KeyValue) int64 {
	t.Helper()
	m := k.Metric(t, name)
	if m == nil {
		return 0
	}
	sum, ok := m.Data.(metricdata.Sum[int64])
	if !ok {
		t.Fatalf("%s is a %T, want an int64 counter", name, m.Data)
	}
	var n int64
	for _, p := range sum.DataPoints {
		if includes(p.Attributes, attrs) {
			n += p.Value
		}
	}
	return n
}

// Histogram is how many values the histogram name (int64 or float64) holds over its
// points whose attributes include every one of attrs, and their sum; 0 when nothing
// recorded it yet.
func (k *Kit) Histogram(t testing.TB, name string, attrs ...attribute.KeyValue) (count uint64, sum float64) {
	t.Helper()
	m := k.Metric(t, name)
	if m == nil {
		return 0, 0
	}
	switch h := m.Data.(type) {
	case metricdata.Histogram[int64]:
		for _, p := range h.DataPoints {
			if includes(p.Attributes, attrs) {
				count, sum = count+p.Count, sum+float64(p.Sum)
			}
		}
	case metricdata.Histogram[float64]:
		for _, p := range h.DataPoints {
			if includes(p.Attributes, attrs) {
				count, sum = count+p.Count, sum+p.Sum
			}
		}
	default:
		t.Fatalf("%s is a %T, want a histogram", name, m.Data)
	}
	return count, sum
}

// Gauge is the value of the gauge name (the last observed or recorded) at its one point
// whose attributes include every one of attrs, and whether there is exactly one such
// point: an observable gauge whose callback is gone, or did not observe, has none.
func (k *Kit) Gauge(t testing.TB, name string, attrs ...attribute.KeyValue) (float64, bool) {
	t.Helper()
	m := k.Metric(t, name)
	if m == nil {
		return 0, false
	}
	var values []float64
	switch g := m.Data.(type) {
	case metricdata.Gauge[int64]:
		for _, p := range g.DataPoints {
			if includes(p.Attributes, attrs) {
				values = append(values, float64(p.Value))
			}
		}
	case metricdata.Gauge[float64]:
		for _, p := range g.DataPoints {
			if includes(p.Attributes, attrs) {
				values = append(values, p.Value)
			}
		}
	default:
		t.Fatalf("%s is a %T, want a gauge", name, m.Data)
	}
	if len(values) != 1 {
		return 0, false
	}
	return values[0], true
}

// includes says whether set includes every one of want.
func includes(set attribute.Set, want []attribute.KeyValue) bool {
	for _, kv := range want {
		if v, ok := set.Value(kv.Key); !ok || v != kv.Value {
			return false
		}
	}
	return true
}
