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

// Write inserts e in tx. If tx is rolled back, so is the event. The trace of ctx travels
// with the event (traceparent), so a consumer's logs join the producer's trace.
func Write(ctx context.Context, tx pgx.Tx, e Event) error {
	if e.Topic == "" || e.Source == "" || e.AggregateID == "" {
		return errors.New("write outbox event: topic, source and aggregate id are required")
	}
	if e.ID == uuid.Nil {
		e.ID = uuid.New()
	}
	payload, err := json.Marshal(e.Data)
	if err != nil {
		return fmt.Errorf("write outbox event %s: encode payload: %w", e.Topic, err)
	}
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
	if t, ok := telemetry.TraceFrom(ctx); ok {
		tp := t.Traceparent()
		return &tp
	}
	return nil
}
