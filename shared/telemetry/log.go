package telemetry

import (
	"context"
	"io"
	"log/slog"
	"strings"

	"go.opentelemetry.io/otel/trace"
)

// NewLogger returns a logger writing to w. Format "json" writes the fields Cloud Logging
// reads (severity, message, time); "text" is for people at a terminal. Every record made
// with a context that carries a trace gets the trace id; with project set, also the
// logging.googleapis.com/trace link.
func NewLogger(w io.Writer, format, level, project string) *slog.Logger {
	opts := &slog.HandlerOptions{Level: parseLevel(level)}
	var h slog.Handler
	if format == "text" {
		h = slog.NewTextHandler(w, opts)
	} else {
		opts.ReplaceAttr = cloudLoggingAttr
		h = slog.NewJSONHandler(w, opts)
	}
	return slog.New(traceHandler{Handler: h, project: project, json: format != "text"})
}

func parseLevel(s string) slog.Level {
	switch strings.ToLower(s) {
	case "debug":
		return slog.LevelDebug
	case "warn", "warning":
		return slog.LevelWarn
	case "error":
		return slog.LevelError
	default:
		return slog.LevelInfo
	}
}

// cloudLoggingAttr renames slog's built-in keys to Cloud Logging's structured fields.
func cloudLoggingAttr(groups []string, a slog.Attr) slog.Attr {
	if len(groups) > 0 {
		return a
	}
	switch a.Key {
	case slog.MessageKey:
		a.Key = "message"
	case slog.LevelKey:
		lvl, ok := a.Value.Any().(slog.Level)
		if !ok {
			return a // a caller's own "level" attribute, not the record's level
		}
		a.Key = "severity"
		switch {
		case lvl >= slog.LevelError:
			a.Value = slog.StringValue("ERROR")
		case lvl >= slog.LevelWarn:
			a.Value = slog.StringValue("WARNING")
		case lvl >= slog.LevelInfo:
			a.Value = slog.StringValue("INFO")
		default:
			a.Value = slog.StringValue("DEBUG")
		}
	}
	return a
}

// traceHandler adds the trace of the record's context, always at the top level: groups
// opened with WithGroup are applied here, around the record's own attributes, instead of
// on the inner handler.
type traceHandler struct {
	slog.Handler // the inner handler, with only the attributes added before any group
	project      string
	json         bool
	groups       []openGroup
}

type openGroup struct {
	name  string
	attrs []slog.Attr
}

func (h traceHandler) Handle(ctx context.Context, r slog.Record) error {
	if len(h.groups) > 0 {
		var attrs []slog.Attr
		r.Attrs(func(a slog.Attr) bool { attrs = append(attrs, a); return true })
		for i := len(h.groups) - 1; i >= 0; i-- {
			g := h.groups[i]
			attrs = []slog.Attr{{Key: g.name, Value: slog.GroupValue(append(g.attrs[:len(g.attrs):len(g.attrs)], attrs...)...)}}
		}
		r = slog.NewRecord(r.Time, r.Level, r.Message, r.PC)
		r.AddAttrs(attrs...)
	}
	if sc := trace.SpanContextFromContext(ctx); sc.HasTraceID() {
		id := sc.TraceID().String()
		if h.json && h.project != "" {
			r.AddAttrs(
				slog.String("logging.googleapis.com/trace", "projects/"+h.project+"/traces/"+id),
				slog.String("logging.googleapis.com/spanId", sc.SpanID().String()),
				slog.Bool("logging.googleapis.com/trace_sampled", sc.IsSampled()),
			)
		}
		r.AddAttrs(slog.String("traceId", id))
	}
	return h.Handler.Handle(ctx, r)
}

func (h traceHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	if len(h.groups) == 0 {
		h.Handler = h.Handler.WithAttrs(attrs)
		return h
	}
	groups := append([]openGroup(nil), h.groups...)
	last := &groups[len(groups)-1]
	last.attrs = append(last.attrs[:len(last.attrs):len(last.attrs)], attrs...)
	h.groups = groups
	return h
}

func (h traceHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	h.groups = append(h.groups[:len(h.groups):len(h.groups)], openGroup{name: name})
	return h
}
