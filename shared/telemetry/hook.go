package telemetry

import "go.opentelemetry.io/otel/trace"

// SetTracerProvider installs tp as the process's tracer provider: Start does, and the
// tests that record spans (telemetrytest.Install, the trace view's).
func SetTracerProvider(tp trace.TracerProvider) { provider.set(tp) }
