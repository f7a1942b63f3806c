package reservations

import (
	"context"
	"errors"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/8949market/market/shared/fault"
	"github.com/8949market/market/shared/telemetry"
)

// The admission's metrics (infra/dashboards reads them by these names).
var (
	admissions = telemetry.Counter("market.reservations.admissions", "{reservation}",
		"Applications to a time deal answered, by outcome: buyer (SELECTED), queued (WAITING) or refused "+
			"(not open, ended, closed, applied already, the seller, no such deal); an apply that failed (503) is not counted.")
	queuePosition = telemetry.Histogram("market.reservations.queue.position", "{position}",
		"The place in the queue answered to a queued applicant (1 is next in line).",
		1, 2, 3, 5, 10, 20, 50, 100, 200, 500, 1000)
)

var (
	outcomeBuyer   = metric.WithAttributeSet(attribute.NewSet(attribute.String("outcome", "buyer")))
	outcomeQueued  = metric.WithAttributeSet(attribute.NewSet(attribute.String("outcome", "queued")))
	outcomeRefused = metric.WithAttributeSet(attribute.NewSet(attribute.String("outcome", "refused")))
)

// The attributes of the admission on its request's span, and of a batch's span.
const (
	attrOutcome  = attribute.Key("market.outcome")
	attrPosition = attribute.Key("market.reservation.position")
	attrBatch    = attribute.Key("market.batch.size")
)

// admitted counts an apply's answer, and names it on the request's span when it is
// recorded.
func admitted(ctx context.Context, app Application, err error) {
	var outcome string
	switch {
	case err == nil && app.Status == "SELECTED":
		outcome = "buyer"
		admissions.Add(ctx, 1, outcomeBuyer)
	case err == nil:
		outcome = "queued"
		admissions.Add(ctx, 1, outcomeQueued)
		queuePosition.Record(ctx, app.Position)
	case refusal(err):
		outcome = "refused"
		admissions.Add(ctx, 1, outcomeRefused)
	default:
		return // failed: the request's span has the error
	}
	if span := trace.SpanFromContext(ctx); span.IsRecording() {
		span.SetAttributes(attrOutcome.String(outcome))
		if outcome == "queued" {
			span.SetAttributes(attrPosition.Int64(app.Position))
		}
	}
}

// refusal says whether err refuses the application for what it is (the applicant's or
// the deal's fault), rather than failing it (the server's).
func refusal(err error) bool {
	var f *fault.Error
	return errors.As(err, &f) && f.Kind != fault.Unavailable && f.Kind != fault.Internal && f.Kind != fault.TooMany
}

// startBatch starts the span of one batch of queued applicants, as a child of the first
// applicant's request that is sampled (so it is recorded when any of them is, and costs
// nothing when none is), linked to the other sampled requests; each request links back to
// it when answered (waitingBatcher.insert).
func startBatch(batch []*waitingReq) (context.Context, trace.Span) {
	first := 0
	for i, r := range batch {
		if r.span.IsSampled() {
			first = i
			break
		}
	}
	var links []trace.Link
	for i, r := range batch[first+1:] {
		if r.span.IsSampled() {
			if links == nil {
				links = make([]trace.Link, 0, len(batch)-first-1-i)
			}
			links = append(links, trace.Link{SpanContext: r.span})
		}
	}
	ctx := trace.ContextWithSpanContext(context.Background(), batch[first].span)
	ctx, span := telemetry.Tracer.Start(ctx, "reservations.batch", trace.WithLinks(links...))
	if span.IsRecording() {
		span.SetAttributes(attrBatch.Int(len(batch)))
	}
	return ctx, span
}
