// Package outbox writes events in the same transaction as the change they announce. The
// relay (outbox-relay) publishes committed rows; a rolled-back transaction publishes
// nothing.
//
//	err := pgx.BeginFunc(ctx, db, func(tx pgx.Tx) error {
//		... change ...
//		return outbox.Write(ctx, tx, outbox.Event{Topic: events.ProductCreated, ...})
//	})
package outbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/8949market/market/shared/telemetry"
)

// Event is an event to publish.
type Event struct {
	// ID is the CloudEvent id; zero means a new random one.
	ID uuid.UUID
	// Topic is the catalogue name, without the environment prefix (the CloudEvent type).
	Topic string
	// Source is the producing domain.
	Source string
	// AggregateID identifies what the event is about: events of one aggregate are
	// delivered in the order they were written.
	AggregateID string
	// Data is the payload, encoded as JSON.
	Data any
}

// Write inserts e in tx. If tx is rolled back, so is the event. The event carries its
// write span (traceparent), so the relay's publish and every consumer's effect join the
// producer's trace.
func Write(ctx context.Context, tx pgx.Tx, e Event) (err error) {
	if e.Topic == "" || e.Source == "" || e.AggregateID == "" {
		return errors.New("write outbox event: topic, source and aggregate id are required")
	}
	ctx, span := telemetry.Tracer.Start(ctx, "outbox.write "+e.Topic, trace.WithAttributes(
		attribute.String("messaging.destination.name", e.Topic), attribute.String("market.aggregate_id", e.AggregateID)))
	defer func() { telemetry.End(span, err) }()
	if e.ID == uuid.Nil {
		e.ID = uuid.New()
	}
	payload, err := json.Marshal(e.Data)
	if err != nil {
		return fmt.Errorf("write outbox event %s: encode payload: %w", e.Topic, err)
	}
	span.SetAttributes(attribute.String("messaging.message.id", e.ID.String()))
	traceparent := Traceparent(ctx)
	_, err = tx.Exec(ctx, Insert+` VALUES ($1, $2, $3, $4, $5, $6)`,
		e.ID, e.Topic, e.Source, e.AggregateID, payload, traceparent)
	if err != nil {
		return fmt.Errorf("write outbox event %s: %w", e.Topic, err)
	}
	return nil
}

// Insert begins the statement that writes events: a VALUES list or a SELECT gives, in
// order, the event id, topic, source, aggregate id, JSON payload and traceparent. Write
// uses it; a writer that announces its change in the same statement as the change (one
// round trip on a hot path) follows it with its SELECT.
const Insert = `INSERT INTO messaging.outbox (id, topic, source, aggregate_id, payload, traceparent)`

// Traceparent is the trace of ctx as an outbox row stores it (nil without one), for the
// rare writer that inserts its event in the same statement as its change.
func Traceparent(ctx context.Context) *string {
	if tp := telemetry.Traceparent(ctx); tp != "" {
		return &tp
	}
	return nil
}
