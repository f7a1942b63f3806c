package telemetry_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/8949market/market/shared/telemetry"
)

const (
	validTrace = "4bf92f3577b34da6a3ce929d0e0e4736"
	validSpan  = "00f067aa0ba902b7"
)

var (
	traceIDPattern = regexp.MustCompile(`^[0-9a-f]{32}$`)
	spanIDPattern  = regexp.MustCompile(`^[0-9a-f]{16}$`)
)

func TestParseTraceparent(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		in     string
		want   telemetry.Trace
		wantOK bool
	}{
		{name: "sampled", in: "00-" + validTrace + "-" + validSpan + "-01", want: telemetry.Trace{TraceID: validTrace, SpanID: validSpan, Sampled: true}, wantOK: true},
		{name: "not sampled", in: "00-" + validTrace + "-" + validSpan + "-00", want: telemetry.Trace{TraceID: validTrace, SpanID: validSpan}, wantOK: true},
		{name: "other flag bits with sampled", in: "00-" + validTrace + "-" + validSpan + "-03", want: telemetry.Trace{TraceID: validTrace, SpanID: validSpan, Sampled: true}, wantOK: true},
		{name: "other flag bits without sampled", in: "00-" + validTrace + "-" + validSpan + "-02", want: telemetry.Trace{TraceID: validTrace, SpanID: validSpan}, wantOK: true},
		{name: "future version", in: "01-" + validTrace + "-" + validSpan + "-01", want: telemetry.Trace{TraceID: validTrace, SpanID: validSpan, Sampled: true}, wantOK: true},
		{name: "surrounding spaces", in: "  00-" + validTrace + "-" + validSpan + "-01 ", want: telemetry.Trace{TraceID: validTrace, SpanID: validSpan, Sampled: true}, wantOK: true},
		{name: "version ff", in: "ff-" + validTrace + "-" + validSpan + "-01"},
		{name: "all-zero trace id", in: "00-" + strings.Repeat("0", 32) + "-" + validSpan + "-01"},
		{name: "all-zero span id", in: "00-" + validTrace + "-" + strings.Repeat("0", 16) + "-01"},
		{name: "short trace id", in: "00-" + validTrace[:31] + "-" + validSpan + "-01"},
		{name: "long trace id", in: "00-" + validTrace + "0-" + validSpan + "-01"},
		{name: "short span id", in: "00-" + validTrace + "-" + validSpan[:15] + "-01"},
		{name: "long span id", in: "00-" + validTrace + "-" + validSpan + "0-01"},
		{name: "one-digit flags", in: "00-" + validTrace + "-" + validSpan + "-1"},
		{name: "three-digit flags", in: "00-" + validTrace + "-" + validSpan + "-001"},
		{name: "one-digit version", in: "0-" + validTrace + "-" + validSpan + "-01"},
		{name: "upper-case trace id", in: "00-" + strings.ToUpper(validTrace) + "-" + validSpan + "-01"},
		{name: "upper-case span id", in: "00-" + validTrace + "-" + strings.ToUpper(validSpan) + "-01"},
		{name: "upper-case flags", in: "00-" + validTrace + "-" + validSpan + "-0A"},
		{name: "non-hex trace id", in: "00-" + "g" + validTrace[1:] + "-" + validSpan + "-01"},
		{name: "too few parts", in: "00-" + validTrace + "-" + validSpan},
		{name: "too many parts", in: "00-" + validTrace + "-" + validSpan + "-01-extra"},
		{name: "empty", in: ""},
		{name: "garbage", in: "garbage"},
		{name: "dashes only", in: "---"},
		{name: "cloud trace format", in: validTrace + "/1;o=1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, ok := telemetry.ParseTraceparent(tc.in)
			if ok != tc.wantOK || got != tc.want {
				t.Errorf("ParseTraceparent(%q) = %+v, %v; want %+v, %v", tc.in, got, ok, tc.want, tc.wantOK)
			}
		})
	}
}

// TestParseTraceparentNonHexVersion documents a bug: the version field is only checked
// for length and "ff", so a non-hex or upper-case version is accepted.
func TestParseTraceparentNonHexVersion(t *testing.T) {
	t.Parallel()
	for _, v := range []string{"zz", "0g", "FF", "0A"} {
		in := v + "-" + validTrace + "-" + validSpan + "-01"
		if got, ok := telemetry.ParseTraceparent(in); ok {
			t.Errorf("ParseTraceparent(%q) = %+v, true; want refused", in, got)
		}
	}
}

func TestTraceparentRoundTrip(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		trace telemetry.Trace
		want  string
	}{
		{"sampled", telemetry.Trace{TraceID: validTrace, SpanID: validSpan, Sampled: true}, "00-" + validTrace + "-" + validSpan + "-01"},
		{"not sampled", telemetry.Trace{TraceID: validTrace, SpanID: validSpan}, "00-" + validTrace + "-" + validSpan + "-00"},
		{"new trace", telemetry.New(), ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := tc.trace.Traceparent()
			if tc.want != "" && s != tc.want {
				t.Errorf("Traceparent() = %q, want %q", s, tc.want)
			}
			got, ok := telemetry.ParseTraceparent(s)
			if !ok || got != tc.trace {
				t.Errorf("ParseTraceparent(%q) = %+v, %v; want %+v, true", s, got, ok, tc.trace)
			}
		})
	}
}

func TestNew(t *testing.T) {
	t.Parallel()
	a, b := telemetry.New(), telemetry.New()
	for _, tr := range []telemetry.Trace{a, b} {
		if !traceIDPattern.MatchString(tr.TraceID) || !spanIDPattern.MatchString(tr.SpanID) || !tr.Sampled {
			t.Errorf("New() = %+v, want 32-hex trace, 16-hex span, sampled", tr)
		}
	}
	if a.TraceID == b.TraceID || a.SpanID == b.SpanID {
		t.Errorf("two New() traces share ids: %+v, %+v", a, b)
	}
}

func TestFromRequest(t *testing.T) {
	t.Parallel()
	const cloudTrace = "105445aa7843bc8bf206b12000100000"
	tests := []struct {
		name        string
		headers     map[string]string
		wantTraceID string // "" means a new trace
		wantSampled bool
	}{
		{name: "no headers", wantSampled: true},
		{
			name:        "traceparent",
			headers:     map[string]string{"traceparent": "00-" + validTrace + "-" + validSpan + "-01"},
			wantTraceID: validTrace,
			wantSampled: true,
		},
		{
			name:        "traceparent not sampled",
			headers:     map[string]string{"traceparent": "00-" + validTrace + "-" + validSpan + "-00"},
			wantTraceID: validTrace,
		},
		{
			name:        "traceparent over X-Cloud-Trace-Context",
			headers:     map[string]string{"traceparent": "00-" + validTrace + "-" + validSpan + "-00", "X-Cloud-Trace-Context": cloudTrace + "/123;o=1"},
			wantTraceID: validTrace,
		},
		{
			name:        "X-Cloud-Trace-Context sampled",
			headers:     map[string]string{"X-Cloud-Trace-Context": cloudTrace + "/123;o=1"},
			wantTraceID: cloudTrace,
			wantSampled: true,
		},
		{
			name:        "X-Cloud-Trace-Context not sampled",
			headers:     map[string]string{"X-Cloud-Trace-Context": cloudTrace + "/123;o=0"},
			wantTraceID: cloudTrace,
		},
		{
			name:        "X-Cloud-Trace-Context without span",
			headers:     map[string]string{"X-Cloud-Trace-Context": cloudTrace},
			wantTraceID: cloudTrace,
		},
		{
			name:        "X-Cloud-Trace-Context upper case is lowered",
			headers:     map[string]string{"X-Cloud-Trace-Context": strings.ToUpper(cloudTrace) + "/1;o=1"},
			wantTraceID: cloudTrace,
			wantSampled: true,
		},
		{
			name:        "invalid traceparent falls back to X-Cloud-Trace-Context",
			headers:     map[string]string{"traceparent": "ff-" + validTrace + "-" + validSpan + "-01", "X-Cloud-Trace-Context": cloudTrace + "/1;o=1"},
			wantTraceID: cloudTrace,
			wantSampled: true,
		},
		{
			name:        "invalid X-Cloud-Trace-Context starts a new trace",
			headers:     map[string]string{"X-Cloud-Trace-Context": "short/1;o=1"},
			wantSampled: true,
		},
		{
			name:        "both invalid starts a new trace",
			headers:     map[string]string{"traceparent": "garbage", "X-Cloud-Trace-Context": "garbage"},
			wantSampled: true,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			req := httptest.NewRequest(http.MethodGet, "/", nil)
			for k, v := range tc.headers {
				req.Header.Set(k, v)
			}
			got := telemetry.FromRequest(req)
			if !traceIDPattern.MatchString(got.TraceID) {
				t.Fatalf("trace id = %q, want 32 lowercase hex", got.TraceID)
			}
			if tc.wantTraceID != "" && got.TraceID != tc.wantTraceID {
				t.Errorf("trace id = %q, want %q", got.TraceID, tc.wantTraceID)
			}
			if tc.wantTraceID == "" && (got.TraceID == validTrace || got.TraceID == cloudTrace) {
				t.Errorf("trace id = %q continues an invalid header", got.TraceID)
			}
			if !spanIDPattern.MatchString(got.SpanID) || got.SpanID == validSpan {
				t.Errorf("span id = %q, want a new 16-hex span", got.SpanID)
			}
			if got.Sampled != tc.wantSampled {
				t.Errorf("sampled = %v, want %v", got.Sampled, tc.wantSampled)
			}
		})
	}
}

func TestFromRequestNewSpanEachTime(t *testing.T) {
	t.Parallel()
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.Header.Set("traceparent", "00-"+validTrace+"-"+validSpan+"-01")
	a, b := telemetry.FromRequest(req), telemetry.FromRequest(req)
	if a.TraceID != validTrace || b.TraceID != validTrace {
		t.Errorf("trace ids = %q, %q; want %q", a.TraceID, b.TraceID, validTrace)
	}
	if a.SpanID == b.SpanID {
		t.Errorf("two continuations share span id %q", a.SpanID)
	}
}

func TestTraceContext(t *testing.T) {
	t.Parallel()
	if _, ok := telemetry.TraceFrom(context.Background()); ok {
		t.Error("TraceFrom(empty context) reported a trace")
	}
	if id := telemetry.TraceID(context.Background()); id != "" {
		t.Errorf("TraceID(empty context) = %q, want empty", id)
	}
	want := telemetry.Trace{TraceID: validTrace, SpanID: validSpan, Sampled: true}
	ctx := telemetry.WithTrace(context.Background(), want)
	if got, ok := telemetry.TraceFrom(ctx); !ok || got != want {
		t.Errorf("TraceFrom = %+v, %v; want %+v, true", got, ok, want)
	}
	if id := telemetry.TraceID(ctx); id != validTrace {
		t.Errorf("TraceID = %q, want %q", id, validTrace)
	}
}
