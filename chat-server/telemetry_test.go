package chatserver_test

import (
	"fmt"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	chatserver "github.com/8949market/market/chat-server"
	"github.com/8949market/market/shared/chat/chattest"
	"github.com/8949market/market/shared/devstack/stacktest"
	"github.com/8949market/market/shared/telemetry/telemetrytest"
	"github.com/8949market/market/shared/testenv"
)

// otelkit records the process's spans and metrics: every test of the package runs the
// chat server with its telemetry on.
var otelkit = telemetrytest.Install()

// observations is how many values the float64 histogram of seconds name holds.
func observations(t *testing.T, name string) uint64 {
	t.Helper()
	if m := otelkit.Metric(t, name); m != nil {
		if _, ok := m.Data.(metricdata.Histogram[float64]); !ok {
			t.Fatalf("%s is a %T, want a float64 histogram", name, m.Data)
		}
		if m.Unit != "s" {
			t.Fatalf("%s in %q, want s", name, m.Unit)
		}
	}
	n, _ := otelkit.Histogram(t, name)
	return n
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
		otelkit.Counter(t, "market.chat.connections"), otelkit.Counter(t, "market.chat.messages", stored), otelkit.Counter(t, "market.chat.messages", refused),
		otelkit.Counter(t, "market.chat.errors", notJoined), observations(t, "market.chat.delivery.duration")

	buyer := chattest.Dial(t, st.ChatURL, room.Buyer.Token)
	seller := chattest.Dial(t, st.ChatURL, room.Seller.Token)
	testenv.Eventually(t, chattest.Wait, "two more connections counted", func() bool {
		return otelkit.Counter(t, "market.chat.connections") == conns+2
	})
	buyer.Join(room.ID, nil)
	seller.Join(room.ID, nil)

	// A message stored and broadcast.
	clientID := "otel-1"
	ack := buyer.Send(room.ID, clientID, "traced hello")
	seller.ExpectMessage(room.ID, ack.Message.ID)
	// The ack and the message go out before the frame's handling ends: the counts follow.
	testenv.Eventually(t, chattest.Wait, "the message counted stored, with its delivery time", func() bool {
		return otelkit.Counter(t, "market.chat.messages", stored) == sent+1 && observations(t, "market.chat.delivery.duration") == delivered+1
	})

	// A send refused: the seller leaves the room and sends to it.
	seller.Write(chatserver.Frame{Type: chatserver.TypeLeave, RoomID: &room.ID})
	seller.Write(chatserver.Frame{Type: chatserver.TypeSend, RoomID: &room.ID, ClientID: "otel-2", Content: "not joined"})
	seller.ExpectError("CH009")
	testenv.Eventually(t, chattest.Wait, "the send counted refused, and its error code", func() bool {
		return otelkit.Counter(t, "market.chat.messages", refused) == refusals+1 && otelkit.Counter(t, "market.chat.errors", notJoined) == errs+1
	})
	if n := otelkit.Counter(t, "market.chat.messages", stored); n != sent+1 {
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
	for _, s := range otelkit.Children(send.SpanContext().SpanID()) {
		members, _ := telemetrytest.Attr(s, "market.chat.members")
		query, _ := telemetrytest.Attr(s, "db.query.text")
		switch {
		case s.Name() == "chat.broadcast":
			broadcast++
			if members.String() != "2" {
				t.Fatalf("chat.broadcast to %s members, want 2", members.String())
			}
		case query.String() != "":
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
		s, ok := otelkit.Span(upgrade)
		return ok && s.SpanKind() == trace.SpanKindServer
	})

	buyer.Close()
	seller.Close()
	testenv.Eventually(t, chattest.Wait, "the connections uncounted", func() bool {
		return otelkit.Counter(t, "market.chat.connections") == conns
	})
}

// findSpan returns the span called name with attrs once it has ended, failing the test
// if none does within chattest.Wait.
func findSpan(t *testing.T, name string, attrs ...attribute.KeyValue) sdktrace.ReadOnlySpan {
	t.Helper()
	var found sdktrace.ReadOnlySpan
	testenv.Eventually(t, chattest.Wait, fmt.Sprintf("a %s span with %v", name, attrs), func() bool {
		if named := otelkit.Named(name, attrs...); len(named) > 0 {
			found = named[0]
			return true
		}
		return false
	})
	return found
}
