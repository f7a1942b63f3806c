package chatserver

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/8949market/market/shared/fault"
	"github.com/8949market/market/shared/telemetry"
)

// The chat server's metrics (infra/dashboards reads them by these names).
var (
	connections = telemetry.UpDownCounter("market.chat.connections", "{connection}",
		"Open WebSocket connections of the chat server.")
	messages = telemetry.Counter("market.chat.messages", "{message}",
		"Send frames answered, by outcome: stored (acknowledged, a retried send included) or refused (an error frame).")
	delivery = telemetry.Seconds("market.chat.delivery.duration",
		"From a send frame received to its message stored, acknowledged and broadcast to the room.")
	errorFrames = telemetry.Counter("market.chat.errors", "{error}",
		"Error frames sent to clients, by the protocol's error code.")
)

var (
	outcomeStored  = metric.WithAttributeSet(attribute.NewSet(attribute.String("outcome", "stored")))
	outcomeRefused = metric.WithAttributeSet(attribute.NewSet(attribute.String("outcome", "refused")))
)

// The attributes of the chat spans.
const (
	attrFrame     = attribute.Key("market.chat.frame")     // the frame's type
	attrRoom      = attribute.Key("market.chat.room")      // the room's id
	attrConn      = attribute.Key("market.chat.conn")      // the connection's id
	attrCode      = attribute.Key("market.chat.error")     // the error code answered
	attrMembers   = attribute.Key("market.chat.members")   // local connections handed a notice
	attrNotice    = attribute.Key("market.chat.notice")    // a notice's kind
	attrOutcome   = attribute.Key("market.outcome")        // stored, duplicate, refused
	attrDuplicate = attribute.Key("market.chat.duplicate") // a retried send, acknowledged again
)

// startFrame starts the span of one frame received, at the instant it was read: chat.send
// for a message, chat.<type> for the other known types, chat.frame for one that does not
// decode.
//
// Each frame is the root of a trace of its own, linked to the connection's upgrade
// request, rather than a child of the upgrade's span: a connection lives for minutes or
// hours, and a trace holding all its frames would be unreadable and would be sampled
// whole or not at all (the parent-based sampler follows the upgrade's decision), where
// short traces sample the frames of every connection alike. The link, and the
// connection's id as an attribute, still lead from a frame to its connection.
func (c *conn) startFrame(typ string, received time.Time) (context.Context, trace.Span) {
	name := "chat.frame"
	switch typ {
	case TypeSend, TypeJoin, TypeLeave, TypeRead, TypeTyping:
		name = "chat." + typ
	}
	opts := []trace.SpanStartOption{trace.WithNewRoot(), trace.WithSpanKind(trace.SpanKindServer), trace.WithTimestamp(received)}
	if c.upgrade.IsValid() {
		opts = append(opts, trace.WithLinks(trace.Link{SpanContext: c.upgrade}))
	}
	ctx, span := telemetry.Tracer.Start(c.ctx, name, opts...)
	if span.IsRecording() {
		span.SetAttributes(attrConn.String(c.id))
	}
	return ctx, span
}

// endFrame ends a frame's span: err is the refusal answered, if any. A refusal is the
// client's fault unless the server could not act (Unavailable, Internal): only those mark
// the span as failed, as a 4xx does not fail a server span.
func endFrame(span trace.Span, f *Frame, err error) {
	if span.IsRecording() {
		if f.Type != "" {
			span.SetAttributes(attrFrame.String(f.Type))
		}
		if f.RoomID != nil {
			span.SetAttributes(attrRoom.String(f.RoomID.String()))
		}
		if err != nil {
			var fe *fault.Error
			switch {
			case !errors.As(err, &fe):
				span.RecordError(err)
				span.SetStatus(codes.Error, err.Error())
			case fe.Kind == fault.Unavailable || fe.Kind == fault.Internal:
				span.SetAttributes(attrCode.String(fe.Code))
				span.RecordError(err)
				span.SetStatus(codes.Error, fe.Message)
			default:
				span.SetAttributes(attrCode.String(fe.Code))
			}
			if f.Type == TypeSend {
				span.SetAttributes(attrOutcome.String("refused"))
			}
		}
	}
	span.End()
}

// countSend counts a send frame's outcome.
func countSend(ctx context.Context, f *Frame, err error) {
	if f.Type != TypeSend {
		return
	}
	if err != nil {
		messages.Add(ctx, 1, outcomeRefused)
		return
	}
	messages.Add(ctx, 1, outcomeStored)
}

// sent marks a stored send's span and records its delivery time: received to stored,
// acknowledged and broadcast (a duplicate is acknowledged only, and not timed).
func sent(ctx context.Context, received time.Time, duplicate bool) {
	span := trace.SpanFromContext(ctx)
	if duplicate {
		span.SetAttributes(attrOutcome.String("stored"), attrDuplicate.Bool(true))
		return
	}
	span.SetAttributes(attrOutcome.String("stored"))
	delivery.Record(ctx, time.Since(received).Seconds())
}

// startBroadcast starts the span of a notice's delivery to a room's members.
func startBroadcast(ctx context.Context, kind string, room uuid.UUID) (context.Context, trace.Span) {
	return telemetry.Tracer.Start(ctx, "chat.broadcast", trace.WithAttributes(
		attrNotice.String(kind), attrRoom.String(room.String())))
}

// countError counts an error frame sent with code.
func countError(code string) {
	errorFrames.Add(context.Background(), 1, metric.WithAttributes(attribute.String("code", code)))
}
