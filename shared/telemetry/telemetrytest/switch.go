package telemetrytest

import (
	"context"
	"sync/atomic"

	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
)

// switchMeters is the SDK's meter provider whose synchronous instruments, of every kind,
// record only while on: the global meter provider is set once and the instruments made
// from it are kept for good, so Deployed switches here. Observable instruments are the
// SDK's own: their callbacks run only when the reader collects, which nothing does while
// a benchmark measures.
type switchMeters struct {
	*sdkmetric.MeterProvider
	on *atomic.Bool
}

func (p switchMeters) Meter(name string, opts ...metric.MeterOption) metric.Meter {
	return switchMeter{p.MeterProvider.Meter(name, opts...), p.on}
}

type switchMeter struct {
	metric.Meter
	on *atomic.Bool
}

func (m switchMeter) Int64Counter(name string, opts ...metric.Int64CounterOption) (metric.Int64Counter, error) {
	i, err := m.Meter.Int64Counter(name, opts...)
	return switchInt64Counter{i, m.on}, err
}

type switchInt64Counter struct {
	metric.Int64Counter
	on *atomic.Bool
}

func (i switchInt64Counter) Add(ctx context.Context, v int64, opts ...metric.AddOption) {
	if i.on.Load() {
		i.Int64Counter.Add(ctx, v, opts...)
	}
}

func (i switchInt64Counter) Enabled(ctx context.Context) bool {
	return i.on.Load() && i.Int64Counter.Enabled(ctx)
}

func (m switchMeter) Float64Counter(name string, opts ...metric.Float64CounterOption) (metric.Float64Counter, error) {
	i, err := m.Meter.Float64Counter(name, opts...)
	return switchFloat64Counter{i, m.on}, err
}

type switchFloat64Counter struct {
	metric.Float64Counter
	on *atomic.Bool
}

func (i switchFloat64Counter) Add(ctx context.Context, v float64, opts ...metric.AddOption) {
	if i.on.Load() {
		i.Float64Counter.Add(ctx, v, opts...)
	}
}

func (i switchFloat64Counter) Enabled(ctx context.Context) bool {
	return i.on.Load() && i.Float64Counter.Enabled(ctx)
}

func (m switchMeter) Int64UpDownCounter(name string, opts ...metric.Int64UpDownCounterOption) (metric.Int64UpDownCounter, error) {
	i, err := m.Meter.Int64UpDownCounter(name, opts...)
	return switchInt64UpDownCounter{i, m.on}, err
}

type switchInt64UpDownCounter struct {
	metric.Int64UpDownCounter
	on *atomic.Bool
}

func (i switchInt64UpDownCounter) Add(ctx context.Context, v int64, opts ...metric.AddOption) {
	if i.on.Load() {
		i.Int64UpDownCounter.Add(ctx, v, opts...)
	}
}

func (i switchInt64UpDownCounter) Enabled(ctx context.Context) bool {
	return i.on.Load() && i.Int64UpDownCounter.Enabled(ctx)
}

func (m switchMeter) Float64UpDownCounter(name string, opts ...metric.Float64UpDownCounterOption) (metric.Float64UpDownCounter, error) {
	i, err := m.Meter.Float64UpDownCounter(name, opts...)
	return switchFloat64UpDownCounter{i, m.on}, err
}

type switchFloat64UpDownCounter struct {
	metric.Float64UpDownCounter
	on *atomic.Bool
}

func (i switchFloat64UpDownCounter) Add(ctx context.Context, v float64, opts ...metric.AddOption) {
	if i.on.Load() {
		i.Float64UpDownCounter.Add(ctx, v, opts...)
	}
}

func (i switchFloat64UpDownCounter) Enabled(ctx context.Context) bool {
	return i.on.Load() && i.Float64UpDownCounter.Enabled(ctx)
}

func (m switchMeter) Int64Histogram(name string, opts ...metric.Int64HistogramOption) (metric.Int64Histogram, error) {
	i, err := m.Meter.Int64Histogram(name, opts...)
	return switchInt64Histogram{i, m.on}, err
}

type switchInt64Histogram struct {
	metric.Int64Histogram
	on *atomic.Bool
}

func (i switchInt64Histogram) Record(ctx context.Context, v int64, opts ...metric.RecordOption) {
	if i.on.Load() {
		i.Int64Histogram.Record(ctx, v, opts...)
	}
}

func (i switchInt64Histogram) Enabled(ctx context.Context) bool {
	return i.on.Load() && i.Int64Histogram.Enabled(ctx)
}

func (m switchMeter) Float64Histogram(name string, opts ...metric.Float64HistogramOption) (metric.Float64Histogram, error) {
	i, err := m.Meter.Float64Histogram(name, opts...)
	return switchFloat64Histogram{i, m.on}, err
}

type switchFloat64Histogram struct {
	metric.Float64Histogram
	on *atomic.Bool
}

func (i switchFloat64Histogram) Record(ctx context.Context, v float64, opts ...metric.RecordOption) {
	if i.on.Load() {
		i.Float64Histogram.Record(ctx, v, opts...)
	}
}

func (i switchFloat64Histogram) Enabled(ctx context.Context) bool {
	return i.on.Load() && i.Float64Histogram.Enabled(ctx)
}

func (m switchMeter) Int64Gauge(name string, opts ...metric.Int64GaugeOption) (metric.Int64Gauge, error) {
	i, err := m.Meter.Int64Gauge(name, opts...)
	return switchInt64Gauge{i, m.on}, err
}

type switchInt64Gauge struct {
	metric.Int64Gauge
	on *atomic.Bool
}

func (i switchInt64Gauge) Record(ctx context.Context, v int64, opts ...metric.RecordOption) {
	if i.on.Load() {
		i.Int64Gauge.Record(ctx, v, opts...)
	}
}

func (i switchInt64Gauge) Enabled(ctx context.Context) bool {
	return i.on.Load() && i.Int64Gauge.Enabled(ctx)
}

func (m switchMeter) Float64Gauge(name string, opts ...metric.Float64GaugeOption) (metric.Float64Gauge, error) {
	i, err := m.Meter.Float64Gauge(name, opts...)
	return switchFloat64Gauge{i, m.on}, err
}

type switchFloat64Gauge struct {
	metric.Float64Gauge
	on *atomic.Bool
}

func (i switchFloat64Gauge) Record(ctx context.Context, v float64, opts ...metric.RecordOption) {
	if i.on.Load() {
		i.Float64Gauge.Record(ctx, v, opts...)
	}
}

func (i switchFloat64Gauge) Enabled(ctx context.Context) bool {
	return i.on.Load() && i.Float64Gauge.Enabled(ctx)
}
