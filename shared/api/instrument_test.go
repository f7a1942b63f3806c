package api_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/trace"

	"github.com/8949market/market/shared/api"
	"github.com/8949market/market/shared/fault"
)

var (
	traceIDPattern = regexp.MustCompile(`^[0-9a-f]{32}$`)
	spanIDPattern  = regexp.MustCompile(`^[0-9a-f]{16}$`)
)

// echoTrace answers with the success envelope and records the span the handler saw.
func echoTrace(seen *trace.SpanContext) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sc := trace.SpanContextFromContext(r.Context())
		if !sc.IsValid() {
			http.Error(w, "no span in context", http.StatusTeapot)
			return
		}
		*seen = sc
		api.OK(w, r, "ok")
	})
}

func TestInstrumentTrace(t *testing.T) {
	t.Parallel()
	const (
		incomingTrace = "4bf92f3577b34da6a3ce929d0e0e4736"
		incomingSpan  = "00f067aa0ba902b7"
	)
	tests := []struct {
		name        string
		headers     map[string]string
		wantTraceID string // "" means a new trace
		wantSampled bool
	}{
		// Without an exporter (tests), a new trace is not sampled: ids only.
		{name: "no headers starts a new trace"},
		{
			name:        "traceparent is continued",
			headers:     map[string]string{"traceparent": "00-" + incomingTrace + "-" + incomingSpan + "-01"},
			wantTraceID: incomingTrace,
			wantSampled: true,
		},
		{
			name:        "unsampled traceparent stays unsampled",
			headers:     map[string]string{"traceparent": "00-" + incomingTrace + "-" + incomingSpan + "-00"},
			wantTraceID: incomingTrace,
		},
		{
			name:    "invalid headers start a new trace",
			headers: map[string]string{"traceparent": "00-xyz-abc-01"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var seen trace.SpanContext
			h := api.Instrument("test", echoTrace(&seen))
			req := httptest.NewRequest(http.MethodGet, "/things", nil)
			for k, v := range tc.headers {
				req.Header.Set(k, v)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)

			if rec.Code != http.StatusOK {
				t.Fatalf("status = %d, want 200: %s", rec.Code, rec.Body)
			}
			header := rec.Header().Get("X-Trace-Id")
			if !traceIDPattern.MatchString(header) {
				t.Fatalf("X-Trace-Id = %q, want 32 lowercase hex digits", header)
			}
			if tc.wantTraceID != "" && header != tc.wantTraceID {
				t.Errorf("X-Trace-Id = %q, want %q", header, tc.wantTraceID)
			}
			if tc.wantTraceID == "" && header == incomingTrace {
				t.Errorf("X-Trace-Id = %q reuses an invalid incoming header", header)
			}
			if seen.TraceID().String() != header {
				t.Errorf("context trace id = %q, header = %q", seen.TraceID(), header)
			}
			if !spanIDPattern.MatchString(seen.SpanID().String()) || seen.SpanID().String() == incomingSpan {
				t.Errorf("span id = %q, want a new 16-hex span", seen.SpanID())
			}
			if seen.IsSampled() != tc.wantSampled {
				t.Errorf("sampled = %v, want %v", seen.IsSampled(), tc.wantSampled)
			}
			var env api.Envelope
			if err := json.Unmarshal(rec.Body.Bytes(), &env); err != nil {
				t.Fatalf("decode envelope: %v", err)
			}
			if env.TraceID != header {
				t.Errorf("envelope traceId = %q, want %q", env.TraceID, header)
			}
		})
	}
}

func TestInstrumentNewTracesDiffer(t *testing.T) {
	t.Parallel()
	h := api.Instrument("test", http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	ids := map[string]bool{}
	for range 20 {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
		ids[rec.Header().Get("X-Trace-Id")] = true
	}
	if len(ids) != 20 {
		t.Errorf("20 requests got %d distinct trace ids", len(ids))
	}
}

func TestInstrumentPanic(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		handler    http.HandlerFunc
		wantStatus int
		wantError  bool // an error body is written
	}{
		{
			name:       "panic before writing",
			handler:    func(http.ResponseWriter, *http.Request) { panic("boom: secret detail") },
			wantStatus: http.StatusInternalServerError,
			wantError:  true,
		},
		{
			name:       "panic with an error value",
			handler:    func(http.ResponseWriter, *http.Request) { panic(fault.ErrNotFound) },
			wantStatus: http.StatusInternalServerError,
			wantError:  true,
		},
		{
			name: "panic after the header keeps the status",
			handler: func(w http.ResponseWriter, _ *http.Request) {
				w.WriteHeader(http.StatusAccepted)
				panic("late")
			},
			wantStatus: http.StatusAccepted,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rec := httptest.NewRecorder()
			api.Instrument("test", tc.handler).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/boom", nil))

			if rec.Code != tc.wantStatus {
				t.Errorf("status = %d, want %d", rec.Code, tc.wantStatus)
			}
			if !tc.wantError {
				if rec.Body.Len() != 0 {
					t.Errorf("body = %q, want none after the header was sent", rec.Body)
				}
				return
			}
			b := decodeErrorBody(t, rec.Body.Bytes())
			if b.Status != 500 || b.Code != "C006" || b.Error != "INTERNAL_SERVER_ERROR" {
				t.Errorf("body = %s, want 500 C006 INTERNAL_SERVER_ERROR", show(b))
			}
			if b.TraceID == "" || b.TraceID != rec.Header().Get("X-Trace-Id") {
				t.Errorf("body traceId = %q, X-Trace-Id = %q", b.TraceID, rec.Header().Get("X-Trace-Id"))
			}
			if strings.Contains(rec.Body.String(), "secret") {
				t.Errorf("body leaks the panic value: %s", rec.Body)
			}
		})
	}
}

func TestInstrumentRepanicsErrAbortHandler(t *testing.T) {
	t.Parallel()
	h := api.Instrument("test", http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		panic(http.ErrAbortHandler)
	}))
	rec := httptest.NewRecorder()
	got := func() (p any) {
		defer func() { p = recover() }()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
		return nil
	}()
	if got != http.ErrAbortHandler { //nolint:errorlint // the recovered value itself, as net/http compares it
		t.Fatalf("recovered %v, want http.ErrAbortHandler", got)
	}
	if rec.Body.Len() != 0 {
		t.Errorf("body = %q, want none for an aborted handler", rec.Body)
	}
}

// TestInstrumentAccessLog replaces the process's default logger, so it is not parallel
// (parallel tests only start once the sequential ones are done) and restores it.
func TestInstrumentAccessLog(t *testing.T) {
	old := slog.Default()
	t.Cleanup(func() { slog.SetDefault(old) })
	var buf bytes.Buffer
	slog.SetDefault(slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})))

	tests := []struct {
		name       string
		method     string
		path       string
		handler    http.HandlerFunc
		wantStatus int
		wantLevel  string
		wantSize   int
	}{
		{
			name:   "success",
			method: http.MethodPost,
			path:   "/listings",
			handler: func(w http.ResponseWriter, r *http.Request) {
				api.Created(w, r, "x")
			},
			wantStatus: http.StatusCreated,
			wantLevel:  "INFO",
		},
		{
			name:       "implicit 200",
			method:     http.MethodGet,
			path:       "/listings",
			handler:    func(http.ResponseWriter, *http.Request) {},
			wantStatus: http.StatusOK,
			wantLevel:  "INFO",
		},
		{
			name:   "client error",
			method: http.MethodDelete,
			path:   "/listings/1",
			handler: func(w http.ResponseWriter, r *http.Request) {
				api.Fail(w, r, fault.ErrNotFound)
			},
			wantStatus: http.StatusNotFound,
			wantLevel:  "INFO",
		},
		{
			name:       "panic",
			method:     http.MethodPut,
			path:       "/listings/1",
			handler:    func(http.ResponseWriter, *http.Request) { panic("boom") },
			wantStatus: http.StatusInternalServerError,
			wantLevel:  "ERROR",
		},
		{
			name:       "health check is debug",
			method:     http.MethodGet,
			path:       "/healthz",
			handler:    func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) },
			wantStatus: http.StatusOK,
			wantLevel:  "DEBUG",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			buf.Reset()
			req := httptest.NewRequest(tc.method, tc.path, nil)
			req.Header.Set("User-Agent", "tester/1.0")
			rec := httptest.NewRecorder()
			api.Instrument("listings", tc.handler).ServeHTTP(rec, req)

			line := accessLine(t, buf.Bytes())
			if line.Msg != "request" || line.Function != "listings" {
				t.Errorf("msg/function = %q/%q, want request/listings", line.Msg, line.Function)
			}
			if line.Level != tc.wantLevel {
				t.Errorf("level = %q, want %q", line.Level, tc.wantLevel)
			}
			hr := line.HTTPRequest
			if hr.Status != tc.wantStatus || hr.Status != rec.Code {
				t.Errorf("httpRequest.status = %d, want %d (response %d)", hr.Status, tc.wantStatus, rec.Code)
			}
			if hr.RequestMethod != tc.method {
				t.Errorf("httpRequest.requestMethod = %q, want %q", hr.RequestMethod, tc.method)
			}
			if hr.RequestURL != tc.path {
				t.Errorf("httpRequest.requestUrl = %q, want %q", hr.RequestURL, tc.path)
			}
			if hr.ResponseSize != rec.Body.Len() {
				t.Errorf("httpRequest.responseSize = %d, want %d", hr.ResponseSize, rec.Body.Len())
			}
			if hr.UserAgent != "tester/1.0" {
				t.Errorf("httpRequest.userAgent = %q", hr.UserAgent)
			}
			if !regexp.MustCompile(`^\d+\.\d{6}s$`).MatchString(hr.Latency) {
				t.Errorf("httpRequest.latency = %q, want seconds like 0.000123s", hr.Latency)
			}
		})
	}
}

type accessLogLine struct {
	Level       string `json:"level"`
	Msg         string `json:"msg"`
	Function    string `json:"function"`
	HTTPRequest struct {
		RequestMethod string `json:"requestMethod"`
		RequestURL    string `json:"requestUrl"`
		Status        int    `json:"status"`
		ResponseSize  int    `json:"responseSize"`
		UserAgent     string `json:"userAgent"`
		Latency       string `json:"latency"`
	} `json:"httpRequest"`
}

// accessLine finds the one access log line among the captured lines.
func accessLine(t *testing.T, out []byte) accessLogLine {
	t.Helper()
	var found []accessLogLine
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		var l accessLogLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("log line is not JSON: %v: %s", err, sc.Bytes())
		}
		if l.Msg == "request" {
			found = append(found, l)
		}
	}
	if len(found) != 1 {
		t.Fatalf("found %d access log lines, want 1; log:\n%s", len(found), out)
	}
	return found[0]
}
