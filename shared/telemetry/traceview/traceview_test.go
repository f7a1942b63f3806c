package traceview_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/8949market/market/shared/telemetry/traceview"
)

// record runs fn with a tracer whose spans go to rec.
func record(t *testing.T, rec *traceview.Recorder, fn func(ctx context.Context, tp *sdktrace.TracerProvider)) {
	t.Helper()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(rec))
	fn(t.Context(), tp)
	if err := tp.Shutdown(t.Context()); err != nil {
		t.Fatal(err)
	}
}

func TestRecorderKeepsTheLastTraces(t *testing.T) {
	t.Parallel()
	rec := traceview.New(2)
	var ids []string
	record(t, rec, func(ctx context.Context, tp *sdktrace.TracerProvider) {
		for _, name := range []string{"first", "second", "third"} {
			_, span := tp.Tracer("test").Start(ctx, name)
			ids = append(ids, span.SpanContext().TraceID().String())
			span.End()
		}
	})
	if got := rec.Trace(ids[0]); len(got) != 0 {
		t.Errorf("the oldest trace is kept: %+v", got)
	}
	recent := rec.Recent()
	if len(recent) != 2 || recent[0].Root != "third" || recent[1].Root != "second" {
		t.Fatalf("recent = %+v, want third then second", recent)
	}
}

func TestHandlerShowsTheTree(t *testing.T) {
	t.Parallel()
	rec := traceview.New(10)
	var id string
	record(t, rec, func(ctx context.Context, tp *sdktrace.TracerProvider) {
		ctx, root := tp.Tracer("test").Start(ctx, "request")
		_, child := tp.Tracer("test").Start(ctx, "query")
		child.End()
		root.End()
		id = root.SpanContext().TraceID().String()
	})
	h := rec.Handler("/debug/traces")
	tests := []struct {
		path       string
		wantStatus int
		want       string
	}{
		{"/debug/traces/" + id, http.StatusOK, "  request  ["},
		{"/debug/traces/" + id, http.StatusOK, "    query  ["}, // under its parent
		{"/debug/traces", http.StatusOK, id},
		{"/debug/traces/" + strings.Repeat("0", 32), http.StatusNotFound, "no such trace"},
	}
	for _, tc := range tests {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", tc.path, nil))
		if w.Code != tc.wantStatus || !strings.Contains(w.Body.String(), tc.want) {
			t.Errorf("GET %s = %d %q, want %d containing %q", tc.path, w.Code, w.Body, tc.wantStatus, tc.want)
		}
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/debug/traces/"+id+"?format=json", nil))
	var spans []traceview.Span
	if err := json.Unmarshal(w.Body.Bytes(), &spans); err != nil || len(spans) != 2 || spans[1].ParentID != spans[0].SpanID {
		t.Fatalf("JSON = %s (%v), want the request and its child", w.Body, err)
	}
	if tree := traceview.Tree(spans); !strings.Contains(tree, "\n") || strings.Index(tree, "request") > strings.Index(tree, "  query") {
		t.Errorf("tree:\n%s", tree)
	}
}
