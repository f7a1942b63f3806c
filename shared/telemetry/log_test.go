package telemetry_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/8949market/market/shared/telemetry"
)

const (
	traceKey   = "logging.googleapis.com/trace"
	spanKey    = "logging.googleapis.com/spanId"
	sampledKey = "logging.googleapis.com/trace_sampled"
)

// jsonLines decodes each line of out as a JSON object.
func jsonLines(t *testing.T, out []byte) []map[string]any {
	t.Helper()
	var lines []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("log line is not JSON: %v: %s", err, sc.Bytes())
		}
		lines = append(lines, m)
	}
	return lines
}

func oneJSONLine(t *testing.T, out []byte) map[string]any {
	t.Helper()
	lines := jsonLines(t, out)
	if len(lines) != 1 {
		t.Fatalf("got %d log lines, want 1:\n%s", len(lines), out)
	}
	return lines[0]
}

func TestNewLoggerJSONSeverity(t *testing.T) {
	t.Parallel()
	tests := []struct {
		level slog.Level
		want  string
	}{
		{slog.LevelDebug, "DEBUG"},
		{slog.LevelDebug + 2, "DEBUG"},
		{slog.LevelInfo, "INFO"},
		{slog.LevelInfo + 2, "INFO"},
		{slog.LevelWarn, "WARNING"},
		{slog.LevelError, "ERROR"},
		{slog.LevelError + 4, "ERROR"},
	}
	for _, tc := range tests {
		t.Run(tc.level.String(), func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			log := telemetry.NewLogger(&buf, "json", "debug", "")
			before := time.Now()
			log.Log(context.Background(), tc.level, "hello", "k", "v")

			line := oneJSONLine(t, buf.Bytes())
			if line["severity"] != tc.want {
				t.Errorf("severity = %v, want %s", line["severity"], tc.want)
			}
			if line["message"] != "hello" {
				t.Errorf("message = %v, want hello", line["message"])
			}
			if line["k"] != "v" {
				t.Errorf("k = %v, want v", line["k"])
			}
			for _, gone := range []string{"level", "msg"} {
				if _, ok := line[gone]; ok {
					t.Errorf("line still has slog key %q: %v", gone, line)
				}
			}
			ts, _ := line["time"].(string)
			parsed, err := time.Parse(time.RFC3339Nano, ts)
			if err != nil {
				t.Fatalf("time %q does not parse: %v", ts, err)
			}
			if parsed.Before(before.Add(-time.Second)) || parsed.After(time.Now().Add(time.Second)) {
				t.Errorf("time %v is not now", parsed)
			}
		})
	}
}

func TestNewLoggerTraceFields(t *testing.T) {
	t.Parallel()
	traced := telemetry.WithTraceparent(context.Background(), "00-"+validTrace+"-"+validSpan+"-01")
	tests := []struct {
		name    string
		project string
		ctx     context.Context
		want    map[string]any // keys that must be present with these values
		absent  []string
	}{
		{
			name:    "project and trace",
			project: "market-prod",
			ctx:     traced,
			want: map[string]any{
				traceKey:   "projects/market-prod/traces/" + validTrace,
				spanKey:    validSpan,
				sampledKey: true,
				"traceId":  validTrace,
			},
		},
		{
			name:    "project and unsampled trace",
			project: "p",
			ctx:     telemetry.WithTraceparent(context.Background(), "00-"+validTrace+"-"+validSpan+"-00"),
			want: map[string]any{
				traceKey:   "projects/p/traces/" + validTrace,
				spanKey:    validSpan,
				sampledKey: false,
				"traceId":  validTrace,
			},
		},
		{
			name:   "trace without project",
			ctx:    traced,
			want:   map[string]any{"traceId": validTrace},
			absent: []string{traceKey, spanKey, sampledKey},
		},
		{
			name:    "project without trace",
			project: "p",
			ctx:     context.Background(),
			absent:  []string{traceKey, spanKey, sampledKey, "traceId"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			log := telemetry.NewLogger(&buf, "json", "info", tc.project)
			log.InfoContext(tc.ctx, "traced")

			line := oneJSONLine(t, buf.Bytes())
			for k, v := range tc.want {
				if line[k] != v {
					t.Errorf("%s = %#v, want %#v", k, line[k], v)
				}
			}
			for _, k := range tc.absent {
				if v, ok := line[k]; ok {
					t.Errorf("%s = %#v, want absent", k, v)
				}
			}
		})
	}
}

func TestNewLoggerWithAttrsKeepsTrace(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	log := telemetry.NewLogger(&buf, "json", "info", "p").With("function", "listings")
	log.InfoContext(telemetry.WithTraceparent(context.Background(), "00-"+validTrace+"-"+validSpan+"-00"), "m")

	line := oneJSONLine(t, buf.Bytes())
	if line["function"] != "listings" || line["traceId"] != validTrace || line[traceKey] != "projects/p/traces/"+validTrace {
		t.Errorf("line = %v, want function, traceId and trace link", line)
	}
}

// TestNewLoggerWithGroupKeepsTraceTopLevel documents a bug: after WithGroup the trace
// attributes are added to the record and so land inside the group, where Cloud Logging
// does not look for logging.googleapis.com/trace.
func TestNewLoggerWithGroupKeepsTraceTopLevel(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	log := telemetry.NewLogger(&buf, "json", "info", "p").WithGroup("req")
	log.InfoContext(telemetry.WithTraceparent(context.Background(), "00-"+validTrace+"-"+validSpan+"-00"), "m", "a", 1)

	line := oneJSONLine(t, buf.Bytes())
	if line[traceKey] != "projects/p/traces/"+validTrace || line["traceId"] != validTrace {
		t.Errorf("trace fields not at top level: %v", line)
	}
}

// TestNewLoggerLevelAttr documents a bug: a top-level attribute named "level" whose value
// is not a slog.Level reaches cloudLoggingAttr's unchecked type assertion and panics.
func TestNewLoggerLevelAttr(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	log := telemetry.NewLogger(&buf, "json", "info", "")
	func() {
		defer func() {
			if p := recover(); p != nil {
				t.Fatalf("logging an attribute named level panicked: %v", p)
			}
		}()
		log.Info("m", "level", "gold")
	}()
	line := oneJSONLine(t, buf.Bytes())
	if line["severity"] != "INFO" || line["level"] != "gold" {
		t.Errorf("line = %v, want severity INFO and level gold", line)
	}
}

func TestNewLoggerText(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		project string
		ctx     context.Context
		want    []string
		absent  []string
	}{
		{
			name:   "plain",
			ctx:    context.Background(),
			want:   []string{"level=INFO", "msg=hello", "k=v", "time="},
			absent: []string{"traceId=", "severity=", "message="},
		},
		{
			name:    "trace and project",
			project: "p",
			ctx:     telemetry.WithTraceparent(context.Background(), "00-"+validTrace+"-"+validSpan+"-00"),
			want:    []string{"level=INFO", "msg=hello", "traceId=" + validTrace},
			absent:  []string{"logging.googleapis.com"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			log := telemetry.NewLogger(&buf, "text", "info", tc.project)
			log.InfoContext(tc.ctx, "hello", "k", "v")

			out := buf.String()
			if strings.Count(out, "\n") != 1 {
				t.Fatalf("got %q, want one line", out)
			}
			if json.Valid([]byte(out)) {
				t.Errorf("text format wrote JSON: %s", out)
			}
			for _, s := range tc.want {
				if !strings.Contains(out, s) {
					t.Errorf("line %q lacks %q", out, s)
				}
			}
			for _, s := range tc.absent {
				if strings.Contains(out, s) {
					t.Errorf("line %q has %q", out, s)
				}
			}
		})
	}
}

func TestNewLoggerLevels(t *testing.T) {
	t.Parallel()
	all := []slog.Level{slog.LevelDebug, slog.LevelInfo, slog.LevelWarn, slog.LevelError}
	tests := []struct {
		format string
		level  string
		want   []string // messages written, in order
	}{
		{"json", "debug", []string{"DEBUG", "INFO", "WARN", "ERROR"}},
		{"json", "DEBUG", []string{"DEBUG", "INFO", "WARN", "ERROR"}},
		{"json", "info", []string{"INFO", "WARN", "ERROR"}},
		{"json", "warn", []string{"WARN", "ERROR"}},
		{"json", "warning", []string{"WARN", "ERROR"}},
		{"json", "error", []string{"ERROR"}},
		{"json", "", []string{"INFO", "WARN", "ERROR"}},
		{"json", "verbose", []string{"INFO", "WARN", "ERROR"}},
		{"text", "info", []string{"INFO", "WARN", "ERROR"}},
		{"text", "debug", []string{"DEBUG", "INFO", "WARN", "ERROR"}},
		{"text", "error", []string{"ERROR"}},
	}
	for _, tc := range tests {
		t.Run(tc.format+"/"+tc.level, func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			log := telemetry.NewLogger(&buf, tc.format, tc.level, "")
			for _, l := range all {
				log.Log(context.Background(), l, l.String())
			}
			var got []string
			if tc.format == "json" {
				for _, line := range jsonLines(t, buf.Bytes()) {
					got = append(got, line["message"].(string))
				}
			} else {
				for l := range strings.Lines(buf.String()) {
					_, msg, ok := strings.Cut(l, "msg=")
					if !ok {
						t.Fatalf("text line without msg: %q", l)
					}
					got = append(got, strings.Fields(msg)[0])
				}
			}
			if strings.Join(got, ",") != strings.Join(tc.want, ",") {
				t.Errorf("written %v, want %v", got, tc.want)
			}
		})
	}
}
