// Package deadletter is what an operator needs to act on events that did not get through
// (cmd/deadletters): it lists them with their errors and, once the cause is fixed,
// replays them. Three places hold them:
//
//   - messaging.outbox rows with status FAILED: the relay could not publish them
//     (MaxAttempts), or published them 1 + MaxRedeliveries times and a consumer never
//     recorded them. Replay puts them back to PENDING with a fresh budget; the relay
//     publishes them again.
//   - messaging.outbox rows SENT a while ago that a consumer of their topic has not
//     recorded (undelivered): the relay is redelivering them. Replay publishes them now,
//     with a fresh budget.
//   - messages on the dead-letter topics (<topic>.dlt): parked by the relay, by the Kafka
//     push bridge, or on Pub/Sub by a push subscription's dead-letter policy. Replay
//     publishes each to its topic and then takes it off the dead-letter topic
//     (acknowledges it on the <topic>.dlt.hold subscription, or commits the Kafka
//     group DeadLetterGroup past it).
//
// Replaying is safe: every consumer dedupes through its inbox, so a consumer that already
// has an event sees no second effect.
package deadletter

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	relay "github.com/8949market/market/outbox-relay"
	"github.com/8949market/market/shared/events"
)

// Kind says where a letter is.
type Kind string

// The kinds of letter.
const (
	Failed       Kind = "failed"        // an outbox row with status FAILED
	Undelivered  Kind = "undelivered"   // an outbox row sent but not recorded by a consumer
	DeadLettered Kind = "dead-lettered" // a message on a dead-letter topic
)

// Letter is one event that did not get through.
type Letter struct {
	Kind    Kind      `json:"kind"`
	EventID string    `json:"eventId"`
	Topic   string    `json:"topic"`   // the catalogue name, without prefix
	Subject string    `json:"subject"` // the aggregate id
	At      time.Time `json:"at"`      // written (outbox) or parked (dead-letter topic)
	Error   string    `json:"error"`   // why it is here
	Where   string    `json:"where"`   // messaging.outbox, or the dead-letter topic
	// Missing are the consumers of the topic that have not recorded the event (outbox
	// letters; nil when every consumer has it, or the topic has none).
	Missing []string `json:"missing,omitempty"`
	// Replayable is false for a dead-lettered message that is not a CloudEvent: it would
	// only be parked again. Replay leaves it where it is (see the backbones).
	Replayable bool `json:"replayable"`
}

// HoldSubscription is the Pub/Sub subscription that keeps what a dead-letter topic is
// sent (a topic without subscriptions drops it): Terraform, make up and the dev stack
// create it.
func HoldSubscription(deadLetterTopic string) string { return deadLetterTopic + ".hold" }

// DeadLetterGroup is the Kafka consumer group whose committed offsets mark what has been
// replayed from the dead-letter topics.
func DeadLetterGroup(prefix string) string { return prefix + "deadletters" }

// Backbone reads and replays the dead-letter topics of one backbone.
type Backbone interface {
	// List returns the messages waiting on the dead-letter topics of topics, without
	// taking them off.
	List(ctx context.Context, topics []string) ([]Letter, error)
	// Replay publishes every replayable message waiting on the dead-letter topics of
	// topics to its topic, then takes it off the dead-letter topic. It returns the
	// letters replayed and those left.
	Replay(ctx context.Context, topics []string) (replayed, left []Letter, err error)
	Close() error
}

// Desk lists and replays the letters of one environment.
type Desk struct {
	DB        *pgxpool.Pool
	Consumers relay.Consumers // who must record each topic's events
	// After is how long ago an event must have been sent to count as undelivered: a
	// consumer catching up is not a lost event (the relay's RedeliverAfter).
	After time.Duration
	// Backbone reads the dead-letter topics; nil when they cannot be reached (the dev
	// stack's in-process broker).
	Backbone Backbone
}

// Topics returns the topics of the catalogue among only (every one when only is empty),
// or an error naming one that is not in the catalogue.
func Topics(only []string) ([]string, error) {
	all := events.Topics()
	if len(only) == 0 {
		return all, nil
	}
	for _, t := range only {
		if !slices.Contains(all, t) {
			return nil, fmt.Errorf("no topic %q in the event catalogue (topics are named without prefix)", t)
		}
	}
	return only, nil
}

// List returns the letters of topics: outbox rows first (FAILED, then undelivered), in
// the order they were written, then the dead-letter topics'.
func (d *Desk) List(ctx context.Context, topics []string) ([]Letter, error) {
	failed, err := d.failed(ctx, topics)
	if err != nil {
		return nil, err
	}
	undelivered, err := d.undelivered(ctx, topics)
	if err != nil {
		return nil, err
	}
	out := append(failed, undelivered...)
	if d.Backbone != nil {
		dead, err := d.Backbone.List(ctx, topics)
		if err != nil {
			return out, err
		}
		out = append(out, dead...)
	}
	return out, nil
}

// Replayed is what Replay did.
type Replayed struct {
	Failed       int      // FAILED rows put back to PENDING
	Undelivered  int      // undelivered rows put back to PENDING
	DeadLettered int      // messages published again and taken off their dead-letter topic
	Left         []Letter // dead-lettered messages that cannot be replayed
}

// Replay replays every letter of topics: outbox rows go back to PENDING with a fresh
// budget of attempts and redeliveries (the relay publishes them again), dead-lettered
// messages are published to their topic and taken off the dead-letter topic.
func (d *Desk) Replay(ctx context.Context, topics []string) (Replayed, error) {
	var res Replayed
	undelivered, err := d.undelivered(ctx, topics)
	if err != nil {
		return res, err
	}
	ids := make([]uuid.UUID, 0, len(undelivered))
	for _, l := range undelivered {
		id, err := uuid.Parse(l.EventID)
		if err != nil {
			return res, fmt.Errorf("replay %s: %w", l.EventID, err)
		}
		ids = append(ids, id)
	}
	// One statement, then a notification: the relay wakes and publishes them in the
	// order they were written (their seq), FAILED and undelivered alike.
	err = d.DB.QueryRow(ctx, `
		WITH target AS (
		    SELECT id, status FROM messaging.outbox
		     WHERE topic = ANY($1) AND (status = 'FAILED' OR (status = 'SENT' AND id = ANY($2)))
		       FOR UPDATE),
		replayed AS (
		    UPDATE messaging.outbox o
		       SET status = 'PENDING', attempts = 0, next_attempt_at = now(),
		           locked_by = NULL, locked_until = NULL, last_error = NULL
		      FROM target t
		     WHERE o.id = t.id
		    RETURNING t.status AS was)
		SELECT count(*) FILTER (WHERE was = 'FAILED'), count(*) FILTER (WHERE was = 'SENT') FROM replayed`,
		topics, ids).Scan(&res.Failed, &res.Undelivered)
	if err != nil {
		return res, fmt.Errorf("replay outbox rows: %w", err)
	}
	if _, err := d.DB.Exec(ctx, `SELECT pg_notify('messaging_outbox', '')`); err != nil {
		return res, fmt.Errorf("wake the relay: %w", err)
	}
	if d.Backbone != nil {
		replayed, left, err := d.Backbone.Replay(ctx, topics)
		res.DeadLettered, res.Left = len(replayed), left
		if err != nil {
			return res, err
		}
	}
	return res, nil
}

// failed lists the FAILED outbox rows of topics.
func (d *Desk) failed(ctx context.Context, topics []string) ([]Letter, error) {
	tp, names := d.Consumers.Pairs()
	rows, err := d.DB.Query(ctx, `
		SELECT o.id::text, o.topic, o.aggregate_id, o.created_at, coalesce(o.last_error, ''), m.missing
		  FROM messaging.outbox o
		 CROSS JOIN LATERAL (
		       SELECT array_agg(c.consumer ORDER BY c.consumer) AS missing
		         FROM unnest($2::text[], $3::text[]) AS c(topic, consumer)
		        WHERE c.topic = o.topic
		          AND NOT EXISTS (SELECT 1 FROM messaging.inbox i
		                           WHERE i.consumer = c.consumer AND i.event_id = o.id)) m
		 WHERE o.status = 'FAILED' AND o.topic = ANY($1)
		 ORDER BY o.seq`, topics, tp, names)
	if err != nil {
		return nil, fmt.Errorf("list failed outbox rows: %w", err)
	}
	defer rows.Close()
	var out []Letter
	for rows.Next() {
		l := Letter{Kind: Failed, Where: "messaging.outbox", Replayable: true}
		if err := rows.Scan(&l.EventID, &l.Topic, &l.Subject, &l.At, &l.Error, &l.Missing); err != nil {
			return nil, fmt.Errorf("list failed outbox rows: %w", err)
		}
		out = append(out, l)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list failed outbox rows: %w", err)
	}
	return out, nil
}

// undelivered lists the outbox rows of topics sent more than After ago that a consumer has
// not recorded.
func (d *Desk) undelivered(ctx context.Context, topics []string) ([]Letter, error) {
	var until time.Time
	if err := d.DB.QueryRow(ctx, `SELECT now() - make_interval(secs => $1)`, d.After.Seconds()).Scan(&until); err != nil {
		return nil, fmt.Errorf("list undelivered events: %w", err)
	}
	only := relay.Consumers{}
	for _, t := range topics {
		if c := d.Consumers[t]; len(c) > 0 {
			only[t] = c
		}
	}
	if len(only) == 0 {
		return nil, nil
	}
	const page = 1000
	w := relay.Window{AfterSeq: -1, To: until}
	var out []Letter
	for {
		found, err := relay.FindUndelivered(ctx, d.DB, only, w, page)
		if err != nil {
			return nil, err
		}
		for _, u := range found {
			out = append(out, Letter{Kind: Undelivered, EventID: u.ID.String(), Topic: u.Topic, Subject: u.AggregateID,
				At: u.CreatedAt, Where: "messaging.outbox", Missing: u.Missing, Replayable: true,
				Error: fmt.Sprintf("sent %d times, last at %s; not recorded by every consumer", u.Attempts, u.SentAt.UTC().Format(time.RFC3339))})
		}
		if len(found) < page {
			return out, nil
		}
		last := found[len(found)-1]
		w.From, w.AfterSeq = last.SentAt, last.Seq
	}
}
