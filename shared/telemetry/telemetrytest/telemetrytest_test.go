package telemetrytest_test

import (
	"context"
	"testing"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/8949market/market/shared/telemetry"
	"github.com/8949market/market/shared/telemetry/telemetrytest"
)

var otelkit = telemetrytest.Install()

// Instruments made before the switch, as a package's are at initialisation.
var (
	meter         = otel.Meter("telemetrytest_test")
	intCounter, _ = meter.Int64Counter("kit.int.counter")
	fltCounter, _ = meter.Float64Counter("kit.float.counter")
	intUpDown, _  = meter.Int64UpDownCounter("kit.int.updown")
	fltUpDown, _  = meter.Float64UpDownCounter("kit.float.updown")
	intHist, _    = meter.Int64Histogram("kit.int.histogram")
	fltHist, _    = meter.Float64Histogram("kit.float.histogram")
	intGauge, _   = meter.Int64Gauge("kit.int.gauge")
	fltGauge, _   = meter.Float64Gauge("kit.float.gauge")
)

// recordAll records 1 (or 2.5) once into every synchronous instrument, with attrs.
func recordAll(attrs ...attribute.KeyValue) {
	ctx, opt := context.Background(), metric.WithAttributes(attrs...)
	intCounter.Add(ctx, 1, opt)
	fltCounter.Add(ctx, 1, opt)
	intUpDown.Add(ctx, 1, opt)
	fltUpDown.Add(ctx, 1, opt)
	intHist.Record(ctx, 1, opt)
	fltHist.Record(ctx, 2.5, opt)
	intGauge.Record(ctx, 1, opt)
	fltGauge.Record(ctx, 2.5, opt)
}

// Every kind of synchronous instrument records while the tests record, and none while a
// benchmark's telemetry is off; the readers sum the points whose attributes include
// theirs. Not parallel: the metrics and the switch are the process's.
func TestMetricsSwitch(t *testing.T) {
	if telemetrytest.Install() != otelkit {
		t.Fatal("a second Install returned another kit")
	}
	a, b := attribute.String("k", "a"), attribute.String("k", "b")
	recordAll(a)
	recordAll(a)
	recordAll(b)
	otelkit.Deployed(false)
	recordAll(a)
	if intCounter.Enabled(context.Background()) {
		t.Error("a counter is enabled with metrics off")
	}
	otelkit.RecordAll()
	if !intCounter.Enabled(context.Background()) {
		t.Error("a counter is not enabled with metrics on")
	}

	if n := otelkit.Counter(t, "kit.int.counter", a); n != 2 {
		t.Errorf("int counter of a = %d, want 2", n)
	}
	if n := otelkit.Counter(t, "kit.int.counter"); n != 3 {
		t.Errorf("int counter = %d, want 3", n)
	}
	if n := otelkit.Counter(t, "kit.int.updown", b); n != 1 {
		t.Errorf("int up-down counter of b = %d, want 1", n)
	}
	if n := otelkit.Counter(t, "kit.none"); n != 0 {
		t.Errorf("a counter nothing recorded = %d, want 0", n)
	}
	if m := otelkit.Metric(t, "kit.float.counter"); m == nil {
		t.Error("float counter not recorded")
	}
	if m := otelkit.Metric(t, "kit.float.updown"); m == nil {
		t.Error("float up-down counter not recorded")
	}
	if n, s := otelkit.Histogram(t, "kit.int.histogram", a); n != 2 || s != 2 {
		t.Errorf("int histogram of a = %d values summing to %v, want 2 summing to 2", n, s)
	}
	if n, s := otelkit.Histogram(t, "kit.float.histogram"); n != 3 || s != 7.5 {
		t.Errorf("float histogram = %d values summing to %v, want 3 summing to 7.5", n, s)
	}
	if v, ok := otelkit.Gauge(t, "kit.int.gauge", a); !ok || v != 1 {
		t.Errorf("int gauge of a = %v, %v; want 1, true", v, ok)
	}
	if v, ok := otelkit.Gauge(t, "kit.float.gauge", b); !ok || v != 2.5 {
		t.Errorf("float gauge of b = %v, %v; want 2.5, true", v, ok)
	}
	if _, ok := otelkit.Gauge(t, "kit.float.gauge"); ok {
		t.Error("a gauge with two points read as one value")
	}
}

// The tests record every span; a benchmark's telemetry records none the kit reads, on or
// off, and every span still gets ids.
func TestSpansSwitch(t *testing.T) {
	ctx, parent := telemetry.Tracer.Start(context.Background(), "kit.parent")
	_, child := telemetry.Tracer.Start(ctx, "kit.child", trace.WithAttributes(attribute.String("role", "child")))
	child.End()
	parent.End()

	if s, ok := otelkit.Span(child.SpanContext().SpanID()); !ok || s.Name() != "kit.child" {
		t.Fatalf("Span(child) = %v, %v", s, ok)
	}
	if n := len(otelkit.Named("kit.child", attribute.String("role", "child"))); n != 1 {
		t.Errorf("%d kit.child spans of role child, want 1", n)
	}
	if n := len(otelkit.Named("kit.child", attribute.String("role", "parent"))); n != 0 {
		t.Errorf("%d kit.child spans of role parent, want 0", n)
	}
	if n := len(otelkit.InTrace(parent.SpanContext().TraceID())); n != 2 {
		t.Errorf("%d spans in the trace, want 2", n)
	}
	if c := otelkit.Children(parent.SpanContext().SpanID()); len(c) != 1 || c[0].Name() != "kit.child" {
		t.Errorf("children of the parent %v, want kit.child", c)
	}
	s, _ := otelkit.Span(child.SpanContext().SpanID())
	if v, ok := telemetrytest.Attr(s, "role"); !ok || v.AsString() != "child" {
		t.Errorf("role = %v, %v; want child", v, ok)
	}
	if _, ok := telemetrytest.Attr(s, "none"); ok {
		t.Error("an attribute the span has not")
	}

	for _, on := range []bool{false, true} {
		otelkit.Deployed(on)
		_, span := telemetry.Tracer.Start(context.Background(), "kit.deployed")
		span.End()
		if !span.SpanContext().IsValid() {
			t.Errorf("deployed %v: a span without ids", on)
		}
	}
	otelkit.RecordAll()
	if n := len(otelkit.Named("kit.deployed")); n != 0 {
		t.Errorf("%d spans of the deployed configuration recorded, want 0", n)
	}
}
