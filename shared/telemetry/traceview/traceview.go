// Package traceview keeps the most recent traces in memory and shows them: make dev's
// trace view at /debug/traces, with no collector to run. It is a span exporter
// (telemetry.Options.Spans), so it sees exactly what an exporter to Cloud Trace would.
package traceview

import (
	"context"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
)

// Span is one recorded span, as the view shows and serves it.
type Span struct {
	TraceID    string            `json:"traceId"`
	SpanID     string            `json:"spanId"`
	ParentID   string            `json:"parentId,omitempty"`
	Name       string            `json:"name"`
	Kind       string            `json:"kind"`
	Service    string            `json:"service"`
	Start      time.Time         `json:"start"`
	Duration   time.Duration     `json:"durationNs"`
	Status     string            `json:"status,omitempty"`
	Attributes map[string]string `json:"attributes,omitempty"`
	Links      []string          `json:"links,omitempty"` // trace-id/span-id of linked spans
}

// Recorder keeps the spans of the last Traces traces.
type Recorder struct {
	max    int
	mu     sync.Mutex
	order  []string          // trace ids, oldest first
	traces map[string][]Span // by trace id
}

// New returns a recorder keeping the last traces traces (at least 1).
func New(traces int) *Recorder {
	return &Recorder{max: max(traces, 1), traces: map[string][]Span{}}
}

// ExportSpans records spans; the oldest traces go when there are too many.
func (r *Recorder) ExportSpans(_ context.Context, spans []sdktrace.ReadOnlySpan) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, s := range spans {
		sp := convert(s)
		if _, ok := r.traces[sp.TraceID]; !ok {
			r.order = append(r.order, sp.TraceID)
			for len(r.order) > r.max {
				delete(r.traces, r.order[0])
				r.order = r.order[1:]
			}
		}
		r.traces[sp.TraceID] = append(r.traces[sp.TraceID], sp)
	}
	return nil
}

// Shutdown does nothing: the recorder holds no resources.
func (r *Recorder) Shutdown(context.Context) error { return nil }

func convert(s sdktrace.ReadOnlySpan) Span {
	sp := Span{
		TraceID:  s.SpanContext().TraceID().String(),
		SpanID:   s.SpanContext().SpanID().String(),
		Name:     s.Name(),
		Kind:     s.SpanKind().String(),
		Start:    s.StartTime(),
		Duration: s.EndTime().Sub(s.StartTime()),
	}
	if s.Parent().IsValid() {
		sp.ParentID = s.Parent().SpanID().String()
	}
	if s.Status().Code.String() == "Error" {
		sp.Status = "error: " + s.Status().Description
	}
	for _, kv := range s.Resource().Attributes() {
		if kv.Key == semconv.ServiceNameKey {
			sp.Service = kv.Value.String()
		}
	}
	if attrs := s.Attributes(); len(attrs) > 0 {
		sp.Attributes = make(map[string]string, len(attrs))
		for _, kv := range attrs {
			sp.Attributes[string(kv.Key)] = kv.Value.String()
		}
	}
	for _, l := range s.Links() {
		sp.Links = append(sp.Links, l.SpanContext.TraceID().String()+"/"+l.SpanContext.SpanID().String())
	}
	return sp
}

// Trace returns the recorded spans of the trace id, in start order.
func (r *Recorder) Trace(id string) []Span {
	r.mu.Lock()
	spans := slices.Clone(r.traces[id])
	r.mu.Unlock()
	slices.SortStableFunc(spans, func(a, b Span) int { return a.Start.Compare(b.Start) })
	return spans
}

// Summary describes one recorded trace.
type Summary struct {
	TraceID  string        `json:"traceId"`
	Root     string        `json:"root"`
	Start    time.Time     `json:"start"`
	Duration time.Duration `json:"durationNs"`
	Spans    int           `json:"spans"`
	Services []string      `json:"services"`
}

// Recent summarises the recorded traces, newest first.
func (r *Recorder) Recent() []Summary {
	r.mu.Lock()
	ids := slices.Clone(r.order)
	r.mu.Unlock()
	out := make([]Summary, 0, len(ids))
	for i := len(ids) - 1; i >= 0; i-- {
		spans := r.Trace(ids[i])
		if len(spans) == 0 {
			continue
		}
		sum := Summary{TraceID: ids[i], Root: spans[0].Name, Start: spans[0].Start, Spans: len(spans)}
		end := spans[0].Start
		for _, s := range spans {
			if s.ParentID == "" {
				sum.Root = s.Name
			}
			if e := s.Start.Add(s.Duration); e.After(end) {
				end = e
			}
			if s.Service != "" && !slices.Contains(sum.Services, s.Service) {
				sum.Services = append(sum.Services, s.Service)
			}
		}
		sum.Duration = end.Sub(sum.Start)
		out = append(out, sum)
	}
	return out
}

// Handler serves the view under prefix (e.g. "/debug/traces"): the recent traces at
// prefix, one trace as an indented tree at prefix/{traceId}; ?format=json for either as
// JSON.
func (r *Recorder) Handler(prefix string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		id := strings.Trim(strings.TrimPrefix(req.URL.Path, prefix), "/")
		asJSON := req.URL.Query().Get("format") == "json"
		w.Header().Set("Cache-Control", "no-store")
		if id == "" {
			recent := r.Recent()
			if asJSON {
				writeJSON(w, recent)
				return
			}
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			_ = listPage.Execute(w, struct {
				Prefix string
				Traces []Summary
			}{prefix, recent})
			return
		}
		spans := r.Trace(id)
		if len(spans) == 0 {
			http.Error(w, "no such trace (only the most recent are kept)", http.StatusNotFound)
			return
		}
		if asJSON {
			writeJSON(w, spans)
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = fmt.Fprint(w, Tree(spans))
	})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// Tree renders spans as an indented tree, children under their parent in start order,
// with each span's offset from the trace's start, duration and service; spans whose
// parent is not among them (a remote parent not recorded) are roots.
func Tree(spans []Span) string {
	if len(spans) == 0 {
		return ""
	}
	ids := map[string]bool{}
	for _, s := range spans {
		ids[s.SpanID] = true
	}
	children := map[string][]Span{}
	var roots []Span
	for _, s := range spans {
		if s.ParentID == "" || !ids[s.ParentID] {
			roots = append(roots, s)
			continue
		}
		children[s.ParentID] = append(children[s.ParentID], s)
	}
	start := spans[0].Start
	var b strings.Builder
	fmt.Fprintf(&b, "trace %s\n", spans[0].TraceID)
	var walk func(s Span, depth int)
	walk = func(s Span, depth int) {
		fmt.Fprintf(&b, "%9s %9s  %s%s  [%s]", s.Start.Sub(start).Round(10*time.Microsecond), s.Duration.Round(10*time.Microsecond),
			strings.Repeat("  ", depth), s.Name, s.Service)
		if s.Status != "" {
			fmt.Fprintf(&b, "  %s", s.Status)
		}
		b.WriteByte('\n')
		for _, c := range children[s.SpanID] {
			walk(c, depth+1)
		}
	}
	for _, s := range roots {
		walk(s, 0)
	}
	return b.String()
}

var listPage = template.Must(template.New("traces").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Recent traces</title>
<style>body{font-family:system-ui,sans-serif;margin:1.5rem}td,th{padding:.2rem .8rem;text-align:left}</style></head>
<body><h1>Recent traces</h1>
<p>Newest first; the most recent traces of this process are kept. JSON: <a href="{{.Prefix}}?format=json">{{.Prefix}}?format=json</a></p>
<table><tr><th>started</th><th>root span</th><th>duration</th><th>spans</th><th>services</th><th>trace</th></tr>
{{range .Traces}}<tr><td>{{.Start.Format "15:04:05.000"}}</td><td>{{.Root}}</td><td>{{.Duration}}</td><td>{{.Spans}}</td><td>{{range .Services}}{{.}} {{end}}</td><td><a href="{{$.Prefix}}/{{.TraceID}}">{{.TraceID}}</a></td></tr>
{{end}}</table></body></html>
`))
