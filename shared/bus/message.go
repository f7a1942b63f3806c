// Package bus moves events between the outbox and the consumers over either backbone:
// Kafka (franz-go) or Pub/Sub (cloud.google.com/go/pubsub/v2). A Message is a CloudEvent;
// each backbone carries it in its CloudEvents binding (Kafka headers ce_*, Pub/Sub
// attributes ce-*), and Deliver hands it to a consumer function as a binary-mode
// CloudEvent over HTTP, so a consumer cannot tell which backbone delivered it.
package bus

import (
	"context"
	"errors"
	"fmt"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2"
)

// Message is one event on the stream.
type Message struct {
	ID          string // CloudEvent id (the outbox row id)
	Type        string // topic without prefix
	Source      string // producing domain
	Subject     string // aggregate id; the Kafka key and Pub/Sub ordering key
	Time        time.Time
	Traceparent string
	Data        []byte // JSON
	// Topic is the full topic name (prefix + type, or a dead-letter topic).
	Topic string
	// Reason says why a dead-lettered message was parked.
	Reason string
}

// Publisher publishes messages to a backbone.
type Publisher interface {
	// Publish publishes msgs and returns one error per message, in order (nil = published
	// and acknowledged by the broker). Messages with one Subject are published in order.
	Publish(ctx context.Context, msgs []Message) []error
	// EnsureTopics creates the topics that do not exist yet.
	EnsureTopics(ctx context.Context, topics []string) error
	Close() error
}

// Event returns m as a CloudEvent.
func (m Message) Event() (cloudevents.Event, error) {
	e := cloudevents.NewEvent()
	e.SetID(m.ID)
	e.SetType(m.Type)
	e.SetSource(m.Source)
	e.SetSubject(m.Subject)
	e.SetTime(m.Time)
	if m.Traceparent != "" {
		e.SetExtension("traceparent", m.Traceparent)
	}
	if m.Reason != "" {
		e.SetExtension("deadletterreason", m.Reason)
	}
	if err := e.SetData(cloudevents.ApplicationJSON, m.Data); err != nil {
		return e, fmt.Errorf("event %s data: %w", m.ID, err)
	}
	if err := e.Validate(); err != nil {
		return e, fmt.Errorf("event %s: %w", m.ID, err)
	}
	return e, nil
}

// The CloudEvents attributes a message carries, by their name without binding prefix.
func (m Message) attributes() map[string]string {
	a := map[string]string{
		"specversion": cloudevents.VersionV1,
		"id":          m.ID,
		"type":        m.Type,
		"source":      m.Source,
		"subject":     m.Subject,
		"time":        m.Time.UTC().Format(time.RFC3339Nano),
	}
	if m.Traceparent != "" {
		a["traceparent"] = m.Traceparent
	}
	if m.Reason != "" {
		a["deadletterreason"] = m.Reason
	}
	return a
}

// fromAttributes rebuilds a message from its CloudEvents attributes (binding prefix
// already removed) and its data.
func fromAttributes(topic string, a map[string]string, data []byte) (Message, error) {
	m := Message{
		ID: a["id"], Type: a["type"], Source: a["source"], Subject: a["subject"],
		Traceparent: a["traceparent"], Reason: a["deadletterreason"], Data: data, Topic: topic,
	}
	if m.ID == "" || m.Type == "" || m.Source == "" {
		return Message{}, errors.New("not a CloudEvent: id, type and source are required")
	}
	if t := a["time"]; t != "" {
		parsed, err := time.Parse(time.RFC3339Nano, t)
		if err != nil {
			return Message{}, fmt.Errorf("cloudevent time %q: %w", t, err)
		}
		m.Time = parsed
	}
	return m, nil
}

// FromEvent is the message carrying e on topic.
func FromEvent(topic string, e cloudevents.Event) Message {
	m := Message{ID: e.ID(), Type: e.Type(), Source: e.Source(), Subject: e.Subject(), Time: e.Time(), Data: e.Data(), Topic: topic}
	if tp, ok := e.Extensions()["traceparent"].(string); ok {
		m.Traceparent = tp
	}
	return m
}
