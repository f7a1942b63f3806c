package telemetry_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/8949market/market/shared/telemetry"
	"github.com/8949market/market/shared/telemetry/traceview"
)

// An exporter the environment names but nobody knows is refused at start, not ignored.
func TestStartRefusesUnknownExporter(t *testing.T) {
	t.Setenv("OTEL_TRACES_EXPORTER", "carrier-pigeon")
	if _, err := telemetry.Start(t.Context(), telemetry.Options{Service: "refused"}); err == nil ||
		!strings.Contains(err.Error(), "OTEL_TRACES_EXPORTER") {
		t.Fatalf("Start = %v, want an OTEL_TRACES_EXPORTER error", err)
	}
}

// Start installs the process's providers: spans reach the extra exporter with the
// service's name, the platform's instruments and the Go runtime's reach /metrics. (Not
// parallel: it installs process-wide providers, once.)
func TestStart(t *testing.T) {
	t.Setenv("OTEL_TRACES_EXPORTER", "")
	t.Setenv("OTEL_METRICS_EXPORTER", "")
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "")
	spans := traceview.New(10)
	tel, err := telemetry.Start(t.Context(), telemetry.Options{Service: "start-test", Prometheus: true, Spans: spans})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tel.Shutdown(context.Background()) })

	ctx, span := telemetry.Tracer.Start(t.Context(), "unit of work")
	_, child := telemetry.Tracer.Start(ctx, "step")
	child.End()
	span.End()
	got := spans.Trace(telemetry.TraceID(ctx))
	if len(got) != 2 || got[0].Name != "unit of work" || got[1].ParentID != got[0].SpanID || got[0].Service != "start-test" {
		t.Fatalf("recorded %+v, want the span and its child of service start-test", got)
	}

	telemetry.Counter("market.test.things", "{thing}", "Things counted by the test.").Add(ctx, 3)
	rec := httptest.NewRecorder()
	tel.Metrics.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	for _, want := range []string{"market_test_things_total{", "go_goroutine_count{", `service_name="start-test"`} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics has no %s:\n%s", want, body)
		}
	}
}

// With an OTLP endpoint and nothing else set, spans go there over OTLP/HTTP: any
// collector receives them.
func TestStartExportsOTLP(t *testing.T) {
	got := make(chan string, 10)
	collector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- r.Method + " " + r.URL.Path
	}))
	defer collector.Close()
	t.Setenv("OTEL_TRACES_EXPORTER", "")
	t.Setenv("OTEL_METRICS_EXPORTER", "none")
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", collector.URL)
	tel, err := telemetry.Start(t.Context(), telemetry.Options{Service: "otlp-test"})
	if err != nil {
		t.Fatal(err)
	}
	_, span := telemetry.Tracer.Start(t.Context(), "exported")
	span.End()
	if err := tel.Shutdown(t.Context()); err != nil { // flushes the batch
		t.Fatal(err)
	}
	select {
	case req := <-got:
		if req != "POST /v1/traces" {
			t.Errorf("the collector got %s, want POST /v1/traces", req)
		}
	default:
		t.Fatal("the collector got nothing")
	}
}
