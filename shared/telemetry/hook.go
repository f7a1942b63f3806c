package telemetry

import "go.opentelemetry.io/otel/trace"

// SetTracerProvider installs tp as the process's tracer provider: Start does, and tests
// that record spans (tracetest) do from their TestMain.
func SetTracerProvider(tp trace.TracerProvider) { provider.set(tp) }
