package apply_test

import (
	"net/http"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/devstack/stacktest"
	rt "github.com/8949market/market/shared/reservations/reservationtest"
	"github.com/8949market/market/shared/telemetry/telemetrytest"
)

// otelkit records the process's spans and metrics for the tests; the storm benchmark
// switches it to the deployed configuration, off and on, and back.
var otelkit = telemetrytest.Install()

// The admission counts each answer by outcome and the place of each queued applicant, and
// a batch of queued applicants has a span of its own, in the trace of one request it
// serves and linked both ways with the others. Not parallel: it reads the process's
// metrics before and after, which the parallel tests would move meanwhile.
func TestAdmissionTelemetry(t *testing.T) {
	st := stacktest.Start(t)
	id, _ := openDeal(t, st, -time.Second, time.Hour)
	buyers, queued, refused := admissions(t, "buyer"), admissions(t, "queued"), admissions(t, "refused")
	places, placeSum := otelkit.Histogram(t, "market.reservations.queue.position")

	first, _ := st.Token(t, auth.RoleUser)
	if res, app := rt.Apply(t, st, id, first); res.Status != http.StatusOK || app.Status != "SELECTED" {
		t.Fatalf("first apply: %d %+v", res.Status, app)
	}
	if n := admissions(t, "buyer"); n != buyers+1 {
		t.Fatalf("%d buyers counted, want %d", n, buyers+1)
	}
	var traces []trace.TraceID
	for want := int64(1); want <= 2; want++ {
		token, _ := st.Token(t, auth.RoleUser)
		res, app := rt.Apply(t, st, id, token)
		if res.Status != http.StatusOK || app.Status != "WAITING" || app.Position != want {
			t.Fatalf("apply %d: %d %+v", want+1, res.Status, app)
		}
		traces = append(traces, traceOf(t, res))
	}
	if res, _ := rt.Apply(t, st, id, first); res.Status != http.StatusConflict {
		t.Fatalf("second apply of the buyer: %d, want 409", res.Status)
	}
	if b, q, r := admissions(t, "buyer"), admissions(t, "queued"), admissions(t, "refused"); b != buyers+1 || q != queued+2 || r != refused+1 {
		t.Fatalf("admissions buyer %d queued %d refused %d, want %d %d %d", b, q, r, buyers+1, queued+2, refused+1)
	}
	if n, s := otelkit.Histogram(t, "market.reservations.queue.position"); n != places+2 || s != placeSum+3 {
		t.Fatalf("%d queue positions summing to %v, want %d summing to %v", n, s, places+2, placeSum+3)
	}
	// An applicant alone is written at once, in a batch of one under its request.
	for i, tr := range traces {
		b := batchIn(t, tr)
		if b == nil || size(b) != 1 || len(b.Links()) != 0 {
			t.Fatalf("applicant %d: batch span %v, want one of size 1 in its request's trace", i+2, b)
		}
		if sqlUnder(b) == 0 {
			t.Fatalf("applicant %d: no SQL statement under its batch", i+2)
		}
		s := serverSpan(t, tr)
		var outcome, place attribute.Value
		if s != nil {
			outcome, _ = telemetrytest.Attr(s, "market.outcome")
			place, _ = telemetrytest.Attr(s, "market.reservation.position")
		}
		if s == nil || outcome.AsString() != "queued" || place.Type() != attribute.INT64 || place.AsInt64() != int64(i+1) {
			t.Fatalf("applicant %d: request span %v, want outcome queued at place %d", i+2, s, i+1)
		}
	}

	// Applicants at once: however they were batched, each batch sits in the trace of one
	// of them and links the others, which link back.
	const n = 30
	var wg sync.WaitGroup
	burst := make([]trace.TraceID, n)
	tokens := make([]string, n)
	for i := range tokens {
		tokens[i], _ = st.Token(t, auth.RoleUser)
	}
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			res := stacktest.Do(t, http.DefaultClient, http.MethodPatch, st.URL+"/api/v1/reservations/"+id.String(), nil, tokens[i])
			if res.Status != http.StatusOK {
				t.Errorf("burst apply %d: %d %s", i, res.Status, res.Body)
			}
			burst[i] = traceOf(t, res)
		})
	}
	close(start)
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	served, batches := 0, 0
	for _, tr := range burst {
		b := batchIn(t, tr)
		if b == nil {
			continue // its batch is in another applicant's trace
		}
		if len(b.Links()) != size(b)-1 {
			t.Fatalf("a batch of %d links %d requests, want %d", size(b), len(b.Links()), size(b)-1)
		}
		for _, l := range b.Links() {
			linked := serverSpan(t, l.SpanContext.TraceID())
			if linked == nil || len(linked.Links()) != 1 || linked.Links()[0].SpanContext.SpanID() != b.SpanContext().SpanID() {
				t.Fatalf("request %s linked by a batch does not link back to it", l.SpanContext.TraceID())
			}
		}
		served += size(b)
		batches++
	}
	t.Logf("%d applicants at once went in %d batches", n, batches)
	if served != n {
		t.Fatalf("batches served %d applicants, want %d", served, n)
	}
	if q := admissions(t, "queued"); q != queued+2+n {
		t.Fatalf("%d queued counted, want %d", q, queued+2+n)
	}
}

// traceOf is the trace of an answered request (its X-Trace-Id).
func traceOf(t *testing.T, res stacktest.Response) trace.TraceID {
	t.Helper()
	id, err := trace.TraceIDFromHex(res.Header.Get("X-Trace-Id"))
	if err != nil {
		t.Fatalf("X-Trace-Id %q: %v", res.Header.Get("X-Trace-Id"), err)
	}
	return id
}

// batchIn is the batch span of trace tr, nil if none.
func batchIn(t *testing.T, tr trace.TraceID) sdktrace.ReadOnlySpan {
	t.Helper()
	for _, s := range otelkit.InTrace(tr) {
		if s.Name() == "reservations.batch" {
			return s
		}
	}
	return nil
}

// serverSpan is the function's server span in trace tr (the one the admission names its
// outcome on), nil if none.
func serverSpan(t *testing.T, tr trace.TraceID) sdktrace.ReadOnlySpan {
	t.Helper()
	for _, s := range otelkit.InTrace(tr) {
		if s.SpanKind() == trace.SpanKindServer && s.Name() == "reservations-apply" {
			return s
		}
	}
	return nil
}

func size(s sdktrace.ReadOnlySpan) int {
	n, _ := telemetrytest.Attr(s, "market.batch.size")
	return int(n.AsInt64())
}

// sqlUnder counts the SQL statements whose parent is s.
func sqlUnder(s sdktrace.ReadOnlySpan) int {
	n := 0
	for _, c := range otelkit.Children(s.SpanContext().SpanID()) {
		if _, ok := telemetrytest.Attr(c, "db.query.text"); ok {
			n++
		}
	}
	return n
}

// admissions is market.reservations.admissions of outcome.
func admissions(t *testing.T, outcome string) int64 {
	t.Helper()
	return otelkit.Counter(t, "market.reservations.admissions", attribute.String("outcome", outcome))
}
