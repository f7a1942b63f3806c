package api

import (
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/8949market/market/shared/fault"
	"github.com/8949market/market/shared/telemetry"
)

// Instrument wraps a function's handler with what every request needs: a server span
// named for the function (continuing the caller's W3C traceparent) and the X-Trace-Id
// header, the request metrics (http.server.request.duration with a function attribute),
// the security headers on every response (see Secure), the refusal of a query string that
// is not text (400 C016: functions read r.URL.Query() directly, and PostgreSQL cannot store
// NUL or invalid UTF-8), recovery from panics as a 500 error body, and one access log
// line in Cloud Logging's httpRequest shape.
func Instrument(function string, next http.Handler) http.Handler {
	fn := attribute.String("function", function)
	inner := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		ctx := r.Context()
		if l, ok := otelhttp.LabelerFromContext(ctx); ok {
			l.Add(fn)
		}
		trace.SpanFromContext(ctx).SetAttributes(fn)
		w.Header().Set("X-Trace-Id", telemetry.TraceID(ctx))
		rec := &recorder{ResponseWriter: w}
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler { //nolint:errorlint // a recovered value, compared by identity as net/http does
					panic(p)
				}
				slog.ErrorContext(ctx, "handler panicked", "function", function,
					"panic", fmt.Sprint(p), "stack", string(debug.Stack()))
				if !rec.wroteHeader {
					Fail(rec, r, fault.ErrInternal)
				}
			}
			level := slog.LevelInfo
			switch {
			case rec.status >= 500:
				level = slog.LevelError
			case r.URL.Path == "/healthz":
				level = slog.LevelDebug
			}
			slog.Log(ctx, level, "request", "function", function, slog.Group("httpRequest",
				"requestMethod", r.Method,
				"requestUrl", r.URL.Path,
				"status", rec.statusOr200(),
				"responseSize", rec.size,
				"userAgent", r.UserAgent(),
				"remoteIp", r.RemoteAddr,
				"latency", fmt.Sprintf("%.6fs", time.Since(start).Seconds()),
			))
		}()
		if err := CheckQuery(r.URL.RawQuery); err != nil {
			Fail(rec, r, err)
		} else {
			next.ServeHTTP(rec, r)
		}
		if !rec.wroteHeader {
			rec.WriteHeader(http.StatusOK) // what net/http would send, with the headers
		}
	})
	return otelhttp.NewHandler(inner, function,
		otelhttp.WithSpanNameFormatter(func(string, *http.Request) string { return function }))
}

// recorder remembers the status and size written.
type recorder struct {
	http.ResponseWriter
	status      int
	size        int
	wroteHeader bool
}

func (r *recorder) WriteHeader(status int) {
	if !r.wroteHeader {
		setSecurityHeaders(r.Header())
		r.status, r.wroteHeader = status, true
	}
	r.ResponseWriter.WriteHeader(status)
}

func (r *recorder) Write(b []byte) (int, error) {
	if !r.wroteHeader {
		r.WriteHeader(http.StatusOK)
	}
	n, err := r.ResponseWriter.Write(b)
	r.size += n
	return n, err
}

// Unwrap lets http.ResponseController reach Flush and Hijack (the chat proxy needs both).
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

func (r *recorder) statusOr200() int {
	if r.status == 0 {
		return http.StatusOK
	}
	return r.status
}
