// Package telemetry sets up what a process reports about itself: structured logs in the
// field names Cloud Logging reads (severity, message, httpRequest,
// logging.googleapis.com/trace), OpenTelemetry traces and metrics (Start), and the W3C
// trace context that carries one trace through the outbox and the stream.
package telemetry

import (
	"context"
	"sync/atomic"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/embedded"
)

// Tracer is the platform's own tracer (spans the contrib instrumentation does not make:
// outbox writes, relay claims and publishes, consumer effects, chat sends). It follows
// the global provider, so it is safe to take before Start.
var Tracer = otel.Tracer("github.com/8949market/market")

// TraceID returns the trace id of ctx's span, or "" when there is none.
func TraceID(ctx context.Context) string {
	sc := trace.SpanContextFromContext(ctx)
	if !sc.HasTraceID() {
		return ""
	}
	return sc.TraceID().String()
}

// Traceparent renders ctx's span as a W3C traceparent value, "" without one: what an
// outbox row and a CloudEvent carry to continue the trace.
func Traceparent(ctx context.Context) string {
	carrier := propagation.MapCarrier{}
	propagation.TraceContext{}.Inject(ctx, carrier)
	return carrier.Get("traceparent")
}

// WithTraceparent returns ctx continuing the trace of a W3C traceparent value (its span
// becomes the remote parent of the next span started); an invalid value leaves ctx as it
// is.
func WithTraceparent(ctx context.Context, traceparent string) context.Context {
	if traceparent == "" {
		return ctx
	}
	return propagation.TraceContext{}.Extract(ctx, propagation.MapCarrier{"traceparent": traceparent})
}

// The process's tracer provider is switchable: until Start installs the configured one
// (and in tests, which do not call it), every span gets ids and nothing is recorded, so
// logs, the X-Trace-Id header and error bodies name a trace whatever the process set up.
// Tracers taken before Start (instrumented handlers, pools) follow the switch: OTel's own
// global delegates only to the first provider set.
var provider = newSwitchable(sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.NeverSample()))))

func init() {
	otel.SetTracerProvider(provider)
	otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}))
}

type switchable struct {
	embedded.TracerProvider
	current atomic.Pointer[providerBox]
}

type providerBox struct{ trace.TracerProvider }

func newSwitchable(p trace.TracerProvider) *switchable {
	s := &switchable{}
	s.set(p)
	return s
}

func (s *switchable) set(p trace.TracerProvider) { s.current.Store(&providerBox{p}) }

func (s *switchable) Tracer(name string, opts ...trace.TracerOption) trace.Tracer {
	return &switchTracer{s: s, name: name, opts: opts}
}

// switchTracer asks the current provider for its tracer once per switch.
type switchTracer struct {
	embedded.Tracer
	s      *switchable
	name   string
	opts   []trace.TracerOption
	cached atomic.Pointer[tracerFor]
}

type tracerFor struct {
	box    *providerBox
	tracer trace.Tracer
}

func (t *switchTracer) Start(ctx context.Context, name string, opts ...trace.SpanStartOption) (context.Context, trace.Span) {
	box := t.s.current.Load()
	c := t.cached.Load()
	if c == nil || c.box != box {
		c = &tracerFor{box: box, tracer: box.Tracer(t.name, t.opts...)}
		t.cached.Store(c)
	}
	return c.tracer.Start(ctx, name, opts...)
}

// End ends span, recording err (if any) as its error status.
func End(span trace.Span, err error) {
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
	}
	span.End()
}
