package telemetry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"time"

	mexporter "github.com/GoogleCloudPlatform/opentelemetry-operations-go/exporter/metric"
	texporter "github.com/GoogleCloudPlatform/opentelemetry-operations-go/exporter/trace"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/contrib/detectors/gcp"
	"go.opentelemetry.io/contrib/exporters/autoexport"
	"go.opentelemetry.io/contrib/instrumentation/runtime"
	"go.opentelemetry.io/otel"
	promexporter "go.opentelemetry.io/otel/exporters/prometheus"
	"go.opentelemetry.io/otel/metric/noop"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
)

// Options say what a process reports, beyond what the standard OTEL_* environment says.
type Options struct {
	// Service names the process (service.name), unless OTEL_SERVICE_NAME does: the
	// function name, outbox-relay, chat-server.
	Service string
	// Prometheus adds a reader whose metrics Telemetry.Metrics serves in Prometheus's text
	// format (make dev's /metrics).
	Prometheus bool
	// Spans, if set, also receives every sampled span (make dev's trace view, tests).
	// It is sent synchronously: it must be quick.
	Spans sdktrace.SpanExporter
}

// Telemetry is what Start installed.
type Telemetry struct {
	// Metrics serves the Prometheus reader's metrics; nil unless Options.Prometheus.
	Metrics  http.Handler
	shutdown []func(context.Context) error
}

// Start installs the process's tracer and meter providers, the W3C propagators and the Go
// runtime metrics, as the standard environment asks:
//
//   - OTEL_TRACES_EXPORTER and OTEL_METRICS_EXPORTER: otlp, console, none, or gcp (Cloud
//     Trace and Cloud Monitoring, as deployed). Unset, they are otlp when
//     OTEL_EXPORTER_OTLP_ENDPOINT is set, else none.
//   - OTEL_TRACES_SAMPLER and OTEL_TRACES_SAMPLER_ARG (e.g. parentbased_traceidratio,
//     0.1); unset, every trace is sampled. With no span exporter nothing is recorded.
//
// Every span gets a trace id whether or not it is sampled, so logs, the X-Trace-Id header
// and error bodies always name one. Call it once, at the top of main; Shutdown flushes.
func Start(ctx context.Context, opts Options) (*Telemetry, error) {
	t := &Telemetry{}
	res, err := newResource(ctx, opts.Service)
	if err != nil {
		return nil, err
	}

	tpOpts := []sdktrace.TracerProviderOption{sdktrace.WithResource(res)}
	recording := false
	if exporting("OTEL_TRACES_EXPORTER") {
		exporter, err := autoexport.NewSpanExporter(ctx)
		if err != nil {
			return nil, fmt.Errorf("OTEL_TRACES_EXPORTER: %w", err)
		}
		if !autoexport.IsNoneSpanExporter(exporter) {
			tpOpts = append(tpOpts, sdktrace.WithBatcher(exporter))
			recording = true
		}
	}
	if opts.Spans != nil {
		tpOpts = append(tpOpts, sdktrace.WithSyncer(opts.Spans))
		recording = true
	}
	if !recording {
		// Ids for the logs, nothing recorded: a span nobody exports is pure cost.
		tpOpts = append(tpOpts, sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.NeverSample())))
	}
	tp := sdktrace.NewTracerProvider(tpOpts...)
	SetTracerProvider(tp)
	t.shutdown = append(t.shutdown, tp.Shutdown)

	var readers []sdkmetric.Option
	if exporting("OTEL_METRICS_EXPORTER") {
		reader, err := autoexport.NewMetricReader(ctx)
		if err != nil {
			return nil, errors.Join(fmt.Errorf("OTEL_METRICS_EXPORTER: %w", err), t.Shutdown(ctx))
		}
		if !autoexport.IsNoneMetricReader(reader) {
			readers = append(readers, sdkmetric.WithReader(reader))
		}
	}
	if opts.Prometheus {
		reg := prometheus.NewRegistry()
		prom, err := promexporter.New(promexporter.WithRegisterer(reg))
		if err != nil {
			return nil, errors.Join(fmt.Errorf("prometheus exporter: %w", err), t.Shutdown(ctx))
		}
		readers = append(readers, sdkmetric.WithReader(prom))
		t.Metrics = promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
	}
	if len(readers) == 0 {
		otel.SetMeterProvider(noop.NewMeterProvider())
		return t, nil
	}
	mp := sdkmetric.NewMeterProvider(append(readers, sdkmetric.WithResource(res))...)
	otel.SetMeterProvider(mp)
	t.shutdown = append(t.shutdown, mp.Shutdown)
	if err := runtime.Start(runtime.WithMeterProvider(mp)); err != nil {
		return nil, errors.Join(fmt.Errorf("runtime metrics: %w", err), t.Shutdown(ctx))
	}
	return t, nil
}

// Shutdown flushes what is buffered and stops the exporters.
func (t *Telemetry) Shutdown(ctx context.Context) error {
	var errs []error
	for _, fn := range t.shutdown {
		errs = append(errs, fn(ctx))
	}
	return errors.Join(errs...)
}

// exporting says whether the signal of variable is exported: it is named, or an OTLP
// endpoint is set (autoexport's default is then OTLP). Unlike autoexport's own default,
// nothing set means nothing exported, instead of OTLP to localhost logging a failed
// export every few seconds on a developer's machine.
func exporting(variable string) bool {
	return os.Getenv(variable) != "" || os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != ""
}

func newResource(ctx context.Context, service string) (*resource.Resource, error) {
	opts := []resource.Option{resource.WithTelemetrySDK(), resource.WithHost()}
	if service != "" {
		opts = append(opts, resource.WithAttributes(semconv.ServiceName(service)))
	}
	opts = append(opts, resource.WithFromEnv()) // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES win
	if os.Getenv("OTEL_TRACES_EXPORTER") == "gcp" || os.Getenv("OTEL_METRICS_EXPORTER") == "gcp" {
		opts = append(opts, resource.WithDetectors(gcp.NewDetector())) // the Cloud Run service and revision
	}
	res, err := resource.New(ctx, opts...)
	if err != nil && !errors.Is(err, resource.ErrPartialResource) {
		return nil, fmt.Errorf("telemetry resource: %w", err)
	}
	return res, nil
}

// The deployed exporters: Cloud Trace and Cloud Monitoring, to the project of
// GOOGLE_CLOUD_PROJECT (else the metadata server's), with the service account's
// credentials.
func init() {
	autoexport.RegisterSpanExporter("gcp", func(context.Context) (sdktrace.SpanExporter, error) {
		var opts []texporter.Option
		if p := os.Getenv("GOOGLE_CLOUD_PROJECT"); p != "" {
			opts = append(opts, texporter.WithProjectID(p))
		}
		e, err := texporter.New(opts...)
		if err != nil {
			return nil, fmt.Errorf("cloud trace exporter: %w", err)
		}
		return e, nil
	})
	autoexport.RegisterMetricReader("gcp", func(context.Context) (sdkmetric.Reader, error) {
		var opts []mexporter.Option
		if p := os.Getenv("GOOGLE_CLOUD_PROJECT"); p != "" {
			opts = append(opts, mexporter.WithProjectID(p))
		}
		e, err := mexporter.New(opts...)
		if err != nil {
			return nil, fmt.Errorf("cloud monitoring exporter: %w", err)
		}
		// Cloud Monitoring takes a point per series at most every 5 s; a minute is its
		// dashboards' resolution and keeps the write cost low.
		return sdkmetric.NewPeriodicReader(e, sdkmetric.WithInterval(time.Minute)), nil
	})
}

// Flush is Shutdown with a few seconds to finish, for a deferred call at the end of main
// (Cloud Run gives a stopping instance 10 s).
func (t *Telemetry) Flush() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := t.Shutdown(ctx); err != nil {
		slog.Warn("telemetry not flushed", "error", err.Error())
	}
}
