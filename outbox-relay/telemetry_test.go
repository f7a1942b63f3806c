package relay

import (
	"context"
	"os"
	"sync/atomic"
	"testing"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/8949market/market/shared/telemetry"
)

// The test process records every span (spans) and reads its metrics on demand (metrics).
// The benchmark turns both off and on again (telemetryOn).
var (
	spans         = tracetest.NewSpanRecorder()
	recordingTP   = sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	metrics       = sdkmetric.NewManualReader()
	metricsOn     atomic.Bool
	meterProvider = sdkmetric.NewMeterProvider(sdkmetric.WithReader(metrics))
)

func TestMain(m *testing.M) {
	telemetry.SetTracerProvider(recordingTP)
	metricsOn.Store(true)
	otel.SetMeterProvider(switchMeters{meterProvider})
	os.Exit(m.Run())
}

// switchMeters is the SDK's meter provider whose synchronous instruments record only
// while metricsOn: OpenTelemetry's global meter provider is set once, and instruments
// made before (the relay's) bind to it for good, so the benchmark switches here.
type switchMeters struct{ *sdkmetric.MeterProvider }

func (p switchMeters) Meter(name string, opts ...metric.MeterOption) metric.Meter {
	return switchMeter{p.MeterProvider.Meter(name, opts...)}
}

type switchMeter struct{ metric.Meter }

func (m switchMeter) Int64Counter(name string, opts ...metric.Int64CounterOption) (metric.Int64Counter, error) {
	c, err := m.Meter.Int64Counter(name, opts...)
	return switchInt64Counter{c}, err
}

func (m switchMeter) Float64Histogram(name string, opts ...metric.Float64HistogramOption) (metric.Float64Histogram, error) {
	h, err := m.Meter.Float64Histogram(name, opts...)
	return switchFloat64Histogram{h}, err
}

func (m switchMeter) Int64Histogram(name string, opts ...metric.Int64HistogramOption) (metric.Int64Histogram, error) {
	h, err := m.Meter.Int64Histogram(name, opts...)
	return switchInt64Histogram{h}, err
}

type switchInt64Counter struct{ metric.Int64Counter }

func (c switchInt64Counter) Add(ctx context.Context, n int64, opts ...metric.AddOption) {
	if metricsOn.Load() {
		c.Int64Counter.Add(ctx, n, opts...)
	}
}

type switchFloat64Histogram struct{ metric.Float64Histogram }

func (h switchFloat64Histogram) Record(ctx context.Context, v float64, opts ...metric.RecordOption) {
	if metricsOn.Load() {
		h.Float64Histogram.Record(ctx, v, opts...)
	}
}

type switchInt64Histogram struct{ metric.Int64Histogram }

func (h switchInt64Histogram) Record(ctx context.Context, v int64, opts ...metric.RecordOption) {
	if metricsOn.Load() {
		h.Int64Histogram.Record(ctx, v, opts...)
	}
}

// collect reads every metric now.
func collect(t *testing.T) metricdata.ResourceMetrics {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := metrics.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	return rm
}

// matches says whether attrs include every one of want.
func matches(attrs attribute.Set, want []attribute.KeyValue) bool {
	for _, kv := range want {
		if v, ok := attrs.Value(kv.Key); !ok || v != kv.Value {
			return false
		}
	}
	return true
}

// counterValue is the sum of counter name's points whose attributes include want.
func counterValue(t *testing.T, name string, want ...attribute.KeyValue) int64 {
	t.Helper()
	var total int64
	for _, sm := range collect(t).ScopeMetrics {
		for _, m := range sm.Metrics {
			if sum, ok := m.Data.(metricdata.Sum[int64]); ok && m.Name == name {
				for _, p := range sum.DataPoints {
					if matches(p.Attributes, want) {
						total += p.Value
					}
				}
			}
		}
	}
	return total
}

// histogramCount is the count and sum of histogram name's points whose attributes include
// want.
func histogramCount(t *testing.T, name string, want ...attribute.KeyValue) (count uint64, sum float64) {
	t.Helper()
	for _, sm := range collect(t).ScopeMetrics {
		for _, m := range sm.Metrics {
			if h, ok := m.Data.(metricdata.Histogram[float64]); ok && m.Name == name {
				for _, p := range h.DataPoints {
					if matches(p.Attributes, want) {
						count, sum = count+p.Count, sum+p.Sum
					}
				}
			}
		}
	}
	return count, sum
}

// gauge is the value of gauge name (the last observed), and whether it has one.
func gauge(t *testing.T, name string) (float64, bool) {
	t.Helper()
	for _, sm := range collect(t).ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name != name {
				continue
			}
			switch g := m.Data.(type) {
			case metricdata.Gauge[int64]:
				if len(g.DataPoints) == 1 {
					return float64(g.DataPoints[0].Value), true
				}
			case metricdata.Gauge[float64]:
				if len(g.DataPoints) == 1 {
					return g.DataPoints[0].Value, true
				}
			}
		}
	}
	return 0, false
}

// endedSpan returns the ended span with id, if any.
func endedSpan(id trace.SpanID) (sdktrace.ReadOnlySpan, bool) {
	for _, s := range spans.Ended() {
		if s.SpanContext().SpanID() == id {
			return s, true
		}
	}
	return nil, false
}

// spanContextOf parses a traceparent.
func spanContextOf(traceparent string) trace.SpanContext {
	return trace.SpanContextFromContext(telemetry.WithTraceparent(context.Background(), traceparent))
}
