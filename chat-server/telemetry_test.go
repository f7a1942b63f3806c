package chatserver_test

import (
	"context"
	"fmt"
	"os"
	"testing"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	chatserver "github.com/8949market/market/chat-server"
	"github.com/8949market/market/shared/chat/chattest"
	"github.com/8949market/market/shared/devstack/stacktest"
	"github.com/8949market/market/shared/telemetry"
	"github.com/8949market/market/shared/testenv"
)

// The test process records every span (spans) and reads its metrics on demand (metrics):
// every test of the package runs the chat server with its telemetry on.
var (
	spans   = tracetest.NewSpanRecorder()
	metrics = sdkmetric.NewManualReader()
)

func TestMain(m *testing.M) {
	telemetry.SetTracerProvider(sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans)))
	otel.SetMeterProvider(sdkmetric.NewMeterProvider(sdkmetric.WithReader(metrics)))
	os.Exit(m.Run())
}

// collect reads the metric called name, nil when nothing recorded it yet.
func collect(t *testing.T, name string) *metricdata.Metrics {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := metrics.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	for _, sm := range rm.ScopeMetrics {
		for i := range sm.Metrics {
			if sm.Metrics[i].Name == name {
				return &sm.Metrics[i]
			}
		}
	}
	return nil
}

// sum is the value of the counter or up-down counter name over the points whose
// attributes include attrs.
func sum(t *testing.T, name string, attrs ...attribute.KeyValue) int64 {
	t.Helper()
	m := collect(t, name)
	if m == nil {
		return 0
	}
	s, ok := m.Data.(metricdata.Sum[int64])
	if !ok {
		t.Fatalf("%s is a %T, want an int64 sum", name, m.Data)
	}
	var n int64
	for _, p := range s.DataPoints {
		if has(p.Attributes, attrs) {
			n += p.Value
		}
	}
	return n
}

// observations is how many values the float64 histogram name holds.
func observations(t *testing.T, name string) uint64 {
	t.Helper()
	m := collect(t, name)
	if m == nil {
		return 0
	}
	h, ok := m.Data.(metricdata.Histogram[float64])
	if !ok {
		t.Fatalf("%s is a %T, want a float64 histogram", name, m.Data)
	}
	if m.Unit != "s" {
		t.Fatalf("%s in %q, want s", name, m.Unit)
	}
	var n uint64
	for _, p := range h.DataPoints {
		n += p.Count
	}
	return n
}

func has(set attribute.Set, attrs []attribute.KeyValue) bool {
	for _, a := range attrs {
		if v, ok := set.Value(a.Key); !ok || v != a.Value {
			return false
		}
	}
	return true
}

// The chat server reports its connections, messages, delivery time and error frames, and
// traces each frame: a send's span holds its SQL statements and its broadcast. Not
// parallel: it reads the process's metrics before and after, which the parallel tests
// would move meanwhile.
func TestTelemetry(t *testing.T) {
	st := stacktest.Start(t)
	room := chattest.Open(t, st)
	stored := attribute.String("outcome", "stored")
	refused := attribute.String("outcome", "refused")
	notJoined := attribute.String("code", "CH009")
	conns, sent, refusals, errs, delivered :=
		sum(t, "market.chat.connections"), sum(t, "market.chat.messages", stored), sum(t, "market.chat.messages", refused),
		sum(t, "market.chat.errors", notJoined), observations(t, "market.chat.delivery.duration")

	buyer := chattest.Dial(t, st.ChatURL, room.Buyer.Token)
	seller := chattest.Dial(t, st.ChatURL, room.Seller.Token)
	testenv.Eventually(t, chattest.Wait, "two more connections counted", func() bool {
		return sum(t, "market.chat.connections") == conns+2
	})
	buyer.Join(room.ID, nil)
	seller.Join(room.ID, nil)

	// A message stored and broadcast.
	clientID := "otel-1"
	ack := buyer.Send(room.ID, clientID, "traced hello")
	seller.ExpectMessage(room.ID, ack.Message.ID)
	// The ack and the message go out before the frame's handling ends: the counts follow.
	testenv.Eventually(t, chattest.Wait, "the message counted stored, with its delivery time", func() bool {
		return sum(t, "market.chat.messages", stored) == sent+1 && observations(t, "market.chat.delivery.duration") == delivered+1
	})

	// A send refused: the seller leaves the room and sends to it.
	seller.Write(chatserver.Frame{Type: chatserver.TypeLeave, RoomID: &room.ID})
	seller.Write(chatserver.Frame{Type: chatserver.TypeSend, RoomID: &room.ID, ClientID: "otel-2", Content: "not joined"})
	seller.ExpectError("CH009")
	testenv.Eventually(t, chattest.Wait, "the send counted refused, and its error code", func() bool {
		return sum(t, "market.chat.messages", refused) == refusals+1 && sum(t, "market.chat.errors", notJoined) == errs+1
	})
	if n := sum(t, "market.chat.messages", stored); n != sent+1 {
		t.Fatalf("%d messages stored, want %d", n, sent+1)
	}

	// The send's span: its own trace, linked to the upgrade, with the INSERT as a child
	// and the broadcast to the room's two connections.
	send := findSpan(t, "chat.send", attribute.String("market.chat.room", room.ID.String()), attribute.String("market.outcome", "stored"))
	if send.Parent().IsValid() {
		t.Fatalf("chat.send has parent %s, want a trace of its own", send.Parent().SpanID())
	}
	if len(send.Links()) != 1 || !send.Links()[0].SpanContext.IsValid() {
		t.Fatalf("chat.send links %+v, want the upgrade's span", send.Links())
	}
	var sql, broadcast int
	for _, s := range spans.Ended() {
		if s.Parent().SpanID() != send.SpanContext().SpanID() {
			continue
		}
		switch {
		case s.Name() == "chat.broadcast":
			broadcast++
			if v := attrOf(s, "market.chat.members"); v != "2" {
				t.Fatalf("chat.broadcast to %s members, want 2", v)
			}
		case attrOf(s, "db.query.text") != "":
			sql++
		}
	}
	if sql == 0 || broadcast != 1 {
		t.Fatalf("chat.send has %d SQL children and %d broadcasts, want some and 1", sql, broadcast)
	}
	findSpan(t, "chat.send", attribute.String("market.chat.room", room.ID.String()), attribute.String("market.chat.error", "CH009"))

	// The upgrade's server span ended with the handshake, before the connection did.
	upgrade := send.Links()[0].SpanContext.SpanID()
	testenv.Eventually(t, chattest.Wait, "the upgrade's span ended while its connection is open", func() bool {
		for _, s := range spans.Ended() {
			if s.SpanContext().SpanID() == upgrade {
				return s.SpanKind() == trace.SpanKindServer
			}
		}
		return false
	})

	buyer.Close()
	seller.Close()
	testenv.Eventually(t, chattest.Wait, "the connections uncounted", func() bool {
		return sum(t, "market.chat.connections") == conns
	})
}

// findSpan returns the span called name with attrs once it has ended, failing the test
// if none does within chattest.Wait.
func findSpan(t *testing.T, name string, attrs ...attribute.KeyValue) sdktrace.ReadOnlySpan {
	t.Helper()
	var found sdktrace.ReadOnlySpan
	testenv.Eventually(t, chattest.Wait, fmt.Sprintf("a %s span with %v", name, attrs), func() bool {
		for _, s := range spans.Ended() {
			if s.Name() == name && has(attribute.NewSet(s.Attributes()...), attrs) {
				found = s
				return true
			}
		}
		return false
	})
	return found
}

func attrOf(s sdktrace.ReadOnlySpan, key string) string {
	for _, a := range s.Attributes() {
		if string(a.Key) == key {
			return a.Value.String()
		}
	}
	return ""
}
