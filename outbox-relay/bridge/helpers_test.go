package bridge_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	"github.com/google/uuid"

	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/8949market/market/shared/bus"
	"github.com/8949market/market/shared/events"
	"github.com/8949market/market/shared/telemetry"
	"github.com/8949market/market/shared/telemetry/telemetrytest"
	"github.com/8949market/market/shared/testenv"
)

// otelkit records the process's spans and metrics.
var otelkit = telemetrytest.Install()

// testTraceparent is a valid W3C traceparent carried by the test events.
const testTraceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

// uniqueTopic returns a topic name no other test uses, and its dead-letter topic.
func uniqueTopic() (topic, dlt string) {
	topic = "t-" + uuid.NewString()
	return topic, topic + events.DeadLetterSuffix
}

// testMessage is an event on topic for aggregate subject, with every attribute set.
func testMessage(topic, subject string, data any) bus.Message {
	raw, err := json.Marshal(data)
	if err != nil {
		panic(err)
	}
	return bus.Message{
		ID:          uuid.NewString(),
		Type:        "product-created",
		Source:      events.SourceProducts,
		Subject:     subject,
		Time:        time.Date(2026, 3, 14, 15, 9, 26, 535897000, time.UTC),
		Traceparent: testTraceparent,
		Data:        raw,
		Topic:       topic,
	}
}

// delivery is one POST a consumer received.
type delivery struct {
	seq         int // order of arrival over all deliveries to this consumer
	attempt     int // the how-many-th delivery of this event id
	status      int // what the consumer answered
	event       cloudevents.Event
	traceHeader string // the plain traceparent HTTP header
}

// consumer is a consumer function: an HTTP endpoint decoding binary-mode CloudEvents
// with the cloudevents sdk, answering what decide says and recording every delivery.
type consumer struct {
	srv    *httptest.Server
	decide func(e cloudevents.Event, attempt int) int

	mu        sync.Mutex
	got       []delivery
	badInputs []string // requests that were not a CloudEvent
}

// newConsumer starts a consumer answering decide(event, attempt) (an HTTP status).
func newConsumer(t *testing.T, decide func(e cloudevents.Event, attempt int) int) *consumer {
	t.Helper()
	c := &consumer{decide: decide}
	c.srv = httptest.NewServer(http.HandlerFunc(c.serve))
	t.Cleanup(c.srv.Close)
	return c
}

func (c *consumer) serve(w http.ResponseWriter, r *http.Request) {
	e, err := cloudevents.NewEventFromHTTPRequest(r)
	c.mu.Lock()
	if err != nil {
		c.badInputs = append(c.badInputs, err.Error())
		c.mu.Unlock()
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	attempt := 1
	for _, d := range c.got {
		if d.event.ID() == e.ID() {
			attempt++
		}
	}
	status := c.decide(*e, attempt)
	c.got = append(c.got, delivery{seq: len(c.got), attempt: attempt, status: status, event: *e,
		traceHeader: r.Header.Get("traceparent")})
	c.mu.Unlock()
	w.WriteHeader(status)
}

// URL is where the bridge delivers.
func (c *consumer) URL() string { return c.srv.URL }

// deliveries returns every delivery so far, in order of arrival.
func (c *consumer) deliveries() []delivery {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]delivery(nil), c.got...)
}

// of returns the deliveries of event id, in order of arrival.
func (c *consumer) of(id string) []delivery {
	var out []delivery
	for _, d := range c.deliveries() {
		if d.event.ID() == id {
			out = append(out, d)
		}
	}
	return out
}

// succeeded reports whether event id was answered 2xx at least once.
func (c *consumer) succeeded(id string) bool {
	for _, d := range c.of(id) {
		if d.status/100 == 2 {
			return true
		}
	}
	return false
}

func (c *consumer) undecodable() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.badInputs...)
}

// failFirst answers 500 to the first n deliveries of each event, then 200.
func failFirst(n int) func(cloudevents.Event, int) int {
	return func(_ cloudevents.Event, attempt int) int {
		if attempt <= n {
			return http.StatusInternalServerError
		}
		return http.StatusOK
	}
}

// checkDeliveredIntact fails unless d carries every attribute and the data of m.
func checkDeliveredIntact(t *testing.T, d delivery, m bus.Message) {
	t.Helper()
	e := d.event
	if e.ID() != m.ID || e.Type() != m.Type || e.Source() != m.Source || e.Subject() != m.Subject {
		t.Errorf("attributes: got id=%q type=%q source=%q subject=%q, want %q %q %q %q",
			e.ID(), e.Type(), e.Source(), e.Subject(), m.ID, m.Type, m.Source, m.Subject)
	}
	if e.SpecVersion() != cloudevents.VersionV1 {
		t.Errorf("specversion = %q", e.SpecVersion())
	}
	if !e.Time().Equal(m.Time) {
		t.Errorf("time = %v, want %v", e.Time(), m.Time)
	}
	checkDeliveryTrace(t, d, m)
	if _, ok := e.Extensions()["deadletterreason"]; ok {
		t.Errorf("a live delivery carries deadletterreason %v", e.Extensions()["deadletterreason"])
	}
	if e.DataContentType() != cloudevents.ApplicationJSON {
		t.Errorf("datacontenttype = %q", e.DataContentType())
	}
	if string(e.Data()) != string(m.Data) {
		t.Errorf("data = %s, want %s", e.Data(), m.Data)
	}
}

// checkDeliveryTrace fails unless the delivery d of m carries, in its traceparent header
// and its CloudEvent's traceparent alike, the span of the bridge's delivery: deliver
// <consumer>, a client span whose parent is m's traceparent.
func checkDeliveryTrace(t *testing.T, d delivery, m bus.Message) {
	t.Helper()
	ext, _ := d.event.Extensions()["traceparent"].(string)
	if ext != d.traceHeader {
		t.Errorf("traceparent extension %q and header %q differ", ext, d.traceHeader)
	}
	event := trace.SpanContextFromContext(telemetry.WithTraceparent(context.Background(), m.Traceparent))
	got := trace.SpanContextFromContext(telemetry.WithTraceparent(context.Background(), d.traceHeader))
	if !got.IsValid() || got.TraceID() != event.TraceID() {
		t.Fatalf("delivery traceparent %q is not in the event's trace %q", d.traceHeader, m.Traceparent)
	}
	var span sdktrace.ReadOnlySpan
	testenv.Eventually(t, 5*time.Second, "the delivery span ended", func() bool {
		var ok bool
		span, ok = otelkit.Span(got.SpanID())
		return ok
	})
	if !strings.HasPrefix(span.Name(), "deliver ") || span.SpanKind() != trace.SpanKindClient || span.Parent().SpanID() != event.SpanID() {
		t.Errorf("delivery carries span %q (kind %v, parent %v), want deliver <consumer>, a client span child of %v",
			span.Name(), span.SpanKind(), span.Parent().SpanID(), event.SpanID())
	}
	if wantErr := d.status/100 != 2; (span.Status().Code == codes.Error) != wantErr {
		t.Errorf("delivery span status %v for an answer %d", span.Status(), d.status)
	}
}

// testContext is a context for the test's own calls, ended with the test.
func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// runner runs a bridge's Run in the background; stop cancels it and returns Run's result.
type runner struct {
	cancel context.CancelFunc
	done   chan error
	once   sync.Once
	err    error
}

func startRun(t *testing.T, run func(context.Context) error) *runner {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &runner{cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- run(ctx) }()
	t.Cleanup(func() { _ = r.stop(t) })
	return r
}

// stop cancels Run and waits (bounded) for it to return.
func (r *runner) stop(t *testing.T) error {
	t.Helper()
	r.once.Do(func() {
		r.cancel()
		select {
		case r.err = <-r.done:
		case <-time.After(20 * time.Second):
			t.Errorf("Run did not return within 20s of its context ending")
		}
	})
	return r.err
}
