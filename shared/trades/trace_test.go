package trades_test

import (
	"os"
	"strings"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/8949market/market/shared/devstack/stacktest"
	"github.com/8949market/market/shared/telemetry"
	"github.com/8949market/market/shared/telemetry/traceview"
)

// spans records every span of this test binary's stacks, every trace sampled.
var spans = traceview.New(100_000)

func TestMain(m *testing.M) {
	telemetry.SetTracerProvider(sdktrace.NewTracerProvider(sdktrace.WithSyncer(spans)))
	os.Exit(m.Run())
}

// One trace follows a deal across the outbox and the stream: the seller's completion
// writes reservation-completed; its consumer opens the trade and writes trade-created;
// the chat server's consumer opens the room and writes chat-room-created; the trades
// consumer records the room. Each consumer's span descends, through the publish and the
// delivery, from the outbox write of the event it consumed, and that from the request.
func TestDealTraceCrossesTheOutbox(t *testing.T) {
	t.Parallel()
	st := stacktest.Start(t)
	s := sell(t, st, "Traced lamp")
	if len(s.completeTrace) != 32 {
		t.Fatalf("X-Trace-Id of the completion = %q", s.completeTrace)
	}
	chain := []struct{ consumer, topic string }{
		{"trades-reservation-completed", "reservation-completed"},
		{"chat-trade-created", "trade-created"},
		{"trades-chat-room-created", "chat-room-created"},
	}
	var got []traceview.Span
	deadline := time.Now().Add(20 * time.Second)
	for {
		got = spans.Trace(s.completeTrace)
		if hasSpan(got, "consume "+chain[len(chain)-1].consumer) || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	byID := map[string]traceview.Span{}
	for _, sp := range got {
		byID[sp.SpanID] = sp
	}
	// ancestors lists the names from sp up to the trace's root, which must be recorded.
	ancestors := func(sp traceview.Span) []string {
		names := []string{sp.Name}
		for sp.ParentID != "" {
			parent, ok := byID[sp.ParentID]
			if !ok {
				t.Fatalf("span %q has a parent %s that is not in the trace:\n%s", sp.Name, sp.ParentID, traceview.Tree(got))
			}
			sp = parent
			names = append(names, sp.Name)
		}
		return names
	}
	for _, step := range chain {
		sp, ok := find(got, "consume "+step.consumer)
		if !ok {
			t.Fatalf("no span of consumer %s in the completion's trace:\n%s", step.consumer, traceview.Tree(got))
		}
		path := ancestors(sp)
		if root := path[len(path)-1]; root != "reservations-complete" {
			t.Errorf("%s descends from %q, want the request reservations-complete", step.consumer, root)
		}
		// Consumer, its delivery (the function's server span, the bridge's client span),
		// the publish (to the topic with its environment prefix), then the write of the
		// event it consumed.
		want := []string{"consume " + step.consumer, step.consumer, "deliver " + step.consumer, "publish *" + step.topic, "outbox.write " + step.topic}
		if !hasPrefixInOrder(path, want) {
			t.Errorf("%s's ancestry %v, want it to begin %v", step.consumer, path, want)
		}
	}
	// The SQL of the effects is in the trace too (otelpgx), under the consumers.
	if !hasSpanPrefix(got, "INSERT") || !hasSpanPrefix(got, "UPDATE") {
		t.Errorf("no SQL spans in the trace:\n%s", traceview.Tree(got))
	}
	if t.Failed() {
		t.Logf("trace:\n%s", traceview.Tree(got))
	}
}

func find(spans []traceview.Span, name string) (traceview.Span, bool) {
	for _, sp := range spans {
		if sp.Name == name {
			return sp, true
		}
	}
	return traceview.Span{}, false
}

func hasSpan(spans []traceview.Span, name string) bool { _, ok := find(spans, name); return ok }

func hasSpanPrefix(spans []traceview.Span, prefix string) bool {
	for _, sp := range spans {
		if strings.HasPrefix(sp.Name, prefix) {
			return true
		}
	}
	return false
}

// hasPrefixInOrder says whether want appear in path in order, each after the one before
// (other spans, such as a Redis call, may sit between); a "*" in a wanted name stands for
// any text.
func hasPrefixInOrder(path, want []string) bool {
	i := 0
	for _, name := range path {
		if i < len(want) && matches(name, want[i]) {
			i++
		}
	}
	return i == len(want) && len(path) > 0 && path[0] == want[0]
}

func matches(name, pattern string) bool {
	before, after, wild := strings.Cut(pattern, "*")
	if !wild {
		return name == pattern
	}
	return len(name) >= len(before)+len(after) && strings.HasPrefix(name, before) && strings.HasSuffix(name, after)
}
