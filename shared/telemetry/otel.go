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
	"go.opentelemetry.io/contrib/instrumentation/runtime"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetricgrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetrichttp"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	promexporter "go.opentelemetry.io/otel/exporters/prometheus"
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
//   - OTEL_TRACES_EXPORTER and OTEL_METRICS_EXPORTER: otlp (over OTEL_EXPORTER_OTLP_PROTOCOL,
//     http/protobuf or grpc, with the exporters' own OTEL_EXPORTER_OTLP_* settings), none,
//     or gcp (Cloud Trace and Cloud Monitoring, as deployed). Unset, they are otlp when
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
	exporter, err := spanExporter(ctx)
	if err != nil {
		return nil, fmt.Errorf("OTEL_TRACES_EXPORTER: %w", err)
	}
	if exporter != nil {
		tpOpts = append(tpOpts, sdktrace.WithBatcher(exporter))
		recording = true
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
	reader, err := metricReader(ctx)
	if err != nil {
		return nil, errors.Join(fmt.Errorf("OTEL_METRICS_EXPORTER: %w", err), t.Shutdown(ctx))
	}
	if reader != nil {
		readers = append(readers, sdkmetric.WithReader(reader))
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
		return t, nil // the global default measures nothing
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

// exporter names the exporter variable asks for: "" for none. Unset, it is otlp when an
// OTLP endpoint is set, else none (not OTLP to localhost, which would log a failed export
// every few seconds on a developer's machine).
func exporter(variable string) string {
	switch v := os.Getenv(variable); {
	case v == "" && os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "":
		return "otlp"
	case v == "none":
		return ""
	default:
		return v
	}
}

// grpc says whether OTLP goes over gRPC rather than HTTP (the specification's default).
func grpc(signal string) bool {
	p := os.Getenv("OTEL_EXPORTER_OTLP_" + signal + "_PROTOCOL")
	if p == "" {
		p = os.Getenv("OTEL_EXPORTER_OTLP_PROTOCOL")
	}
	return p == "grpc"
}

// spanExporter is the exporter OTEL_TRACES_EXPORTER asks for, nil for none.
func spanExporter(ctx context.Context) (sdktrace.SpanExporter, error) {
	switch name := exporter("OTEL_TRACES_EXPORTER"); name {
	case "":
		return nil, nil
	case "otlp":
		if grpc("TRACES") {
			return otlptracegrpc.New(ctx)
		}
		return otlptracehttp.New(ctx)
	case "gcp":
		var opts []texporter.Option
		if p := os.Getenv("GOOGLE_CLOUD_PROJECT"); p != "" {
			opts = append(opts, texporter.WithProjectID(p))
		}
		e, err := texporter.New(opts...)
		if err != nil {
			return nil, fmt.Errorf("cloud trace exporter: %w", err)
		}
		return e, nil
	default:
		return nil, fmt.Errorf("unknown exporter %q (otlp, gcp or none)", name)
	}
}

// metricReader is the reader OTEL_METRICS_EXPORTER asks for, nil for none.
func metricReader(ctx context.Context) (sdkmetric.Reader, error) {
	var e sdkmetric.Exporter
	var err error
	readerOpts := []sdkmetric.PeriodicReaderOption{} // the SDK reads OTEL_METRIC_EXPORT_INTERVAL, else 60 s
	switch name := exporter("OTEL_METRICS_EXPORTER"); name {
	case "":
		return nil, nil
	case "otlp":
		if grpc("METRICS") {
			e, err = otlpmetricgrpc.New(ctx)
		} else {
			e, err = otlpmetrichttp.New(ctx)
		}
	case "gcp":
		var opts []mexporter.Option
		if p := os.Getenv("GOOGLE_CLOUD_PROJECT"); p != "" {
			opts = append(opts, mexporter.WithProjectID(p))
		}
		if e, err = mexporter.New(opts...); err != nil {
			err = fmt.Errorf("cloud monitoring exporter: %w", err)
		}
		// Cloud Monitoring takes a point per series at most every 5 s; a minute is its
		// dashboards' resolution and keeps the write cost low.
		readerOpts = append(readerOpts, sdkmetric.WithInterval(time.Minute))
	default:
		return nil, fmt.Errorf("unknown exporter %q (otlp, gcp or none)", name)
	}
	if err != nil {
		return nil, err
	}
	return sdkmetric.NewPeriodicReader(e, readerOpts...), nil
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

// Flush is Shutdown with a few seconds to finish, for a deferred call at the end of main
// (Cloud Run gives a stopping instance 10 s).
func (t *Telemetry) Flush() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := t.Shutdown(ctx); err != nil {
		slog.Warn("telemetry not flushed", "error", err.Error())
	}
}
