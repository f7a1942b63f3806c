package telemetry

import (
	"fmt"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/metric"
)

// Meter is the platform's own meter (the metrics of docs/observability.md). It follows
// the global provider, so instruments made from it at package initialisation report once
// Start has run, and cost nearly nothing where it has not (tests).
var Meter = otel.Meter("github.com/8949market/market")

// SecondsBuckets are the histogram bounds of durations in seconds, 1 ms to 1 min: the
// SDK's defaults are meant for milliseconds.
var SecondsBuckets = []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60}

// Counter makes a counter of Meter; an invalid name is a programming error and panics at
// initialisation, where any test finds it.
func Counter(name, unit, description string) metric.Int64Counter {
	c, err := Meter.Int64Counter(name, metric.WithUnit(unit), metric.WithDescription(description))
	must(name, err)
	return c
}

// UpDownCounter makes an up-down counter of Meter (see Counter).
func UpDownCounter(name, unit, description string) metric.Int64UpDownCounter {
	c, err := Meter.Int64UpDownCounter(name, metric.WithUnit(unit), metric.WithDescription(description))
	must(name, err)
	return c
}

// Seconds makes a histogram of durations in seconds with SecondsBuckets (see Counter).
func Seconds(name, description string) metric.Float64Histogram {
	h, err := Meter.Float64Histogram(name, metric.WithUnit("s"), metric.WithDescription(description),
		metric.WithExplicitBucketBoundaries(SecondsBuckets...))
	must(name, err)
	return h
}

// Histogram makes a histogram of unit with the given bounds (see Counter).
func Histogram(name, unit, description string, bounds ...float64) metric.Int64Histogram {
	h, err := Meter.Int64Histogram(name, metric.WithUnit(unit), metric.WithDescription(description),
		metric.WithExplicitBucketBoundaries(bounds...))
	must(name, err)
	return h
}

func must(name string, err error) {
	if err != nil {
		panic(fmt.Sprintf("telemetry: instrument %s: %v", name, err))
	}
}
