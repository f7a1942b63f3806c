package telemetry_test

import (
	"context"
	"testing"

	"github.com/8949market/market/shared/telemetry"
)

const (
	validTrace = "4bf92f3577b34da6a3ce929d0e0e4736"
	validSpan  = "00f067aa0ba902b7"
)

// The trace an outbox row or a CloudEvent carries continues where it is read; what is not
// a W3C traceparent continues nothing (the next span starts a trace of its own).
func TestWithTraceparent(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, wantTrace, wantParent string
	}{
		{name: "sampled", in: "00-" + validTrace + "-" + validSpan + "-01", wantTrace: validTrace, wantParent: "00-" + validTrace + "-" + validSpan + "-01"},
		{name: "not sampled", in: "00-" + validTrace + "-" + validSpan + "-00", wantTrace: validTrace, wantParent: "00-" + validTrace + "-" + validSpan + "-00"},
		{name: "empty", in: ""},
		{name: "garbage", in: "garbage"},
		{name: "version ff", in: "ff-" + validTrace + "-" + validSpan + "-01"},
		{name: "all-zero trace id", in: "00-00000000000000000000000000000000-" + validSpan + "-01"},
		{name: "short span id", in: "00-" + validTrace + "-" + validSpan[:15] + "-01"},
		{name: "cloud trace format", in: validTrace + "/1;o=1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := telemetry.WithTraceparent(context.Background(), tc.in)
			if got := telemetry.TraceID(ctx); got != tc.wantTrace {
				t.Errorf("TraceID = %q, want %q", got, tc.wantTrace)
			}
			if got := telemetry.Traceparent(ctx); got != tc.wantParent {
				t.Errorf("Traceparent = %q, want %q", got, tc.wantParent)
			}
		})
	}
}
