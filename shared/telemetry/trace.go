// Package telemetry gives every request and event a trace id and writes structured logs
// in the field names Cloud Logging reads (severity, message, httpRequest,
// logging.googleapis.com/trace).
package telemetry

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"strings"
)

type traceKey struct{}

// Trace identifies a request across functions and events (W3C trace context).
type Trace struct {
	TraceID string // 32 lowercase hex digits
	SpanID  string // 16 lowercase hex digits
	Sampled bool
}

// Traceparent renders t as a W3C traceparent header value.
func (t Trace) Traceparent() string {
	flags := "00"
	if t.Sampled {
		flags = "01"
	}
	return "00-" + t.TraceID + "-" + t.SpanID + "-" + flags
}

// WithTrace returns ctx carrying t.
func WithTrace(ctx context.Context, t Trace) context.Context {
	return context.WithValue(ctx, traceKey{}, t)
}

// TraceFrom returns the trace in ctx, if any.
func TraceFrom(ctx context.Context) (Trace, bool) {
	t, ok := ctx.Value(traceKey{}).(Trace)
	return t, ok
}

// TraceID returns the trace id in ctx, or "" when there is none.
func TraceID(ctx context.Context) string {
	t, _ := TraceFrom(ctx)
	return t.TraceID
}

// ParseTraceparent reads a W3C traceparent value; ok is false when it is not valid.
func ParseTraceparent(v string) (t Trace, ok bool) {
	parts := strings.Split(strings.TrimSpace(v), "-")
	if len(parts) != 4 || !isHex(parts[0], 2) || parts[0] == "ff" {
		return Trace{}, false
	}
	if !isHex(parts[1], 32) || !isHex(parts[2], 16) || !isHex(parts[3], 2) {
		return Trace{}, false
	}
	if parts[1] == strings.Repeat("0", 32) || parts[2] == strings.Repeat("0", 16) {
		return Trace{}, false
	}
	flags, _ := hex.DecodeString(parts[3])
	return Trace{TraceID: parts[1], SpanID: parts[2], Sampled: flags[0]&1 == 1}, true
}

// FromRequest continues the caller's trace (traceparent, or Google's
// X-Cloud-Trace-Context) with a new span, or starts a new trace.
func FromRequest(r *http.Request) Trace {
	if t, ok := ParseTraceparent(r.Header.Get("traceparent")); ok {
		t.SpanID = randomHex(8)
		return t
	}
	// X-Cloud-Trace-Context: TRACE_ID/SPAN_ID;o=OPTIONS
	if v := r.Header.Get("X-Cloud-Trace-Context"); v != "" {
		id, rest, _ := strings.Cut(v, "/")
		if isHex(strings.ToLower(id), 32) {
			return Trace{TraceID: strings.ToLower(id), SpanID: randomHex(8), Sampled: strings.Contains(rest, "o=1")}
		}
	}
	return New()
}

// New starts a new trace.
func New() Trace {
	return Trace{TraceID: randomHex(16), SpanID: randomHex(8), Sampled: true}
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return hex.EncodeToString(b)
}

func isHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for _, c := range s {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
