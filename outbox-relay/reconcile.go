package relay

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/8949market/market/shared/bus"
)

// Consumers says which consumer functions subscribe to each topic (the catalogue name,
// without prefix). Every consumer records each event it acknowledges in its inbox
// (messaging.inbox, under its function name), so an event sent to a topic but missing from
// the inbox of one of its consumers was lost on the way (a broker that died with its log,
// a message past its retention) or dead-lettered.
type Consumers map[string][]string

// ConsumersFromManifest reads the consumers per topic from the function manifest
// (infra/terraform/functions.json, what Terraform subscribes): a binary built from the
// same commit reconciles against what is deployed without linking any function.
func ConsumersFromManifest(raw []byte) (Consumers, error) {
	var m struct {
		Functions []struct {
			Name  string `json:"name"`
			Kind  string `json:"kind"`
			Topic string `json:"topic"`
		} `json:"functions"`
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("read the function manifest: %w", err)
	}
	c := Consumers{}
	for _, f := range m.Functions {
		if f.Kind == "event" {
			c[f.Topic] = append(c[f.Topic], f.Name)
		}
	}
	if len(c) == 0 {
		return nil, fmt.Errorf("read the function manifest: no event consumers")
	}
	return c, nil
}

// Pairs flattens c into parallel arrays (topic, consumer) for SQL, in a stable order.
func (c Consumers) Pairs() (topics, consumers []string) {
	for _, t := range slices.Sorted(maps.Keys(c)) {
		for _, name := range slices.Sorted(slices.Values(c[t])) {
			topics, consumers = append(topics, t), append(consumers, name)
		}
	}
	return topics, consumers
}

// Undelivered is an event the relay sent (status SENT) that a consumer of its topic has
// not recorded.
type Undelivered struct {
	ID          uuid.UUID
	Seq         int64
	Topic       string // without prefix
	Source      string
	AggregateID string
	Payload     []byte
	Traceparent *string
	CreatedAt   time.Time
	SentAt      time.Time
	// Attempts counts every publish of the row: the first, retries after a failed
	// publish, and redeliveries.
	Attempts int
	Missing  []string // the consumers without an inbox row for it
}

// Window selects sent rows by their sent_at: From (inclusive) to To (exclusive), after the
// row (From, AfterSeq) when paging through rows sent in the same instant.
type Window struct {
	From     time.Time
	AfterSeq int64
	To       time.Time
}

// FindUndelivered returns up to limit events sent inside w, in the order they were sent,
// that a consumer of their topic (consumers) has not recorded. It walks the sent rows by
// the outbox's sent_at index and looks each one up in the inbox by its primary key.
func FindUndelivered(ctx context.Context, db *pgxpool.Pool, consumers Consumers, w Window, limit int) ([]Undelivered, error) {
	topics, names := consumers.Pairs()
	rows, err := db.Query(ctx, `
		SELECT o.id, o.seq, o.topic, o.source, o.aggregate_id, o.payload, o.traceparent,
		       o.created_at, o.sent_at, o.attempts, m.missing
		  FROM messaging.outbox o
		 CROSS JOIN LATERAL (
		       SELECT array_agg(c.consumer ORDER BY c.consumer) AS missing
		         FROM unnest($4::text[], $5::text[]) AS c(topic, consumer)
		        WHERE c.topic = o.topic
		          AND NOT EXISTS (SELECT 1 FROM messaging.inbox i
		                           WHERE i.consumer = c.consumer AND i.event_id = o.id)) m
		 WHERE o.status = 'SENT'
		   AND o.sent_at >= $1 AND (o.sent_at, o.seq) > ($1, $2) AND o.sent_at < $3
		   AND o.topic = ANY($4)
		   AND m.missing IS NOT NULL
		 ORDER BY o.sent_at, o.seq
		 LIMIT $6`, w.From, w.AfterSeq, w.To, topics, names, limit)
	if err != nil {
		return nil, fmt.Errorf("find undelivered events: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Undelivered, error) {
		var u Undelivered
		err := row.Scan(&u.ID, &u.Seq, &u.Topic, &u.Source, &u.AggregateID, &u.Payload, &u.Traceparent,
			&u.CreatedAt, &u.SentAt, &u.Attempts, &u.Missing)
		return u, err
	})
	if err != nil {
		return nil, fmt.Errorf("find undelivered events: %w", err)
	}
	return out, nil
}

// Reconciled is what a reconciliation pass did.
type Reconciled struct {
	Redelivered int // events published again
	GivenUp     int // events marked FAILED: still not recorded after MaxRedeliveries
}

// reconcileSlice bounds the sent rows one statement of a pass walks, so a pass over days
// of retained rows is many short statements rather than one long one.
const reconcileSlice = time.Hour

// UndeliveredMessage is the warning logged, once per event, when the relay gives up
// redelivering an event a consumer never recorded (Terraform's dead-letter metric counts
// it; the operator's command lists the row, FAILED, and replays it).
const UndeliveredMessage = "event never recorded by its consumers; redelivery given up"

// Reconcile publishes again every event sent since since and at least after ago (both
// by the database's clock) that a consumer of its topic has not recorded in its inbox;
// every consumer dedupes through its inbox, so the consumers that have it see no second
// effect. An event already published 1 + MaxRedeliveries times is not published again:
// it is marked FAILED with the consumers it is missing, where an operator finds and
// replays it, and a warning (UndeliveredMessage) is logged. It returns what it did and
// the instant up to which it looked, the since of the next pass; a zero since means
// every retained row.
func (r *Relay) Reconcile(ctx context.Context, since time.Time, after time.Duration) (Reconciled, time.Time, error) {
	var res Reconciled
	if len(r.opts.Consumers) == 0 {
		return res, since, nil
	}
	var until time.Time
	var first *time.Time
	if err := r.db.QueryRow(ctx, `
		SELECT now() - make_interval(secs => $1),
		       (SELECT min(sent_at) FROM messaging.outbox WHERE status = 'SENT' AND sent_at >= $2)`,
		after.Seconds(), since).Scan(&until, &first); err != nil {
		return res, since, fmt.Errorf("reconcile: %w", err)
	}
	if first == nil {
		return res, until, nil
	}
	for from := *first; from.Before(until); from = from.Add(reconcileSlice) {
		w := Window{From: from, AfterSeq: -1, To: from.Add(reconcileSlice)}
		if w.To.After(until) {
			w.To = until
		}
		for {
			found, err := FindUndelivered(ctx, r.db, r.opts.Consumers, w, r.opts.BatchSize)
			if err != nil {
				return res, since, fmt.Errorf("reconcile: %w", err)
			}
			if len(found) == 0 {
				break
			}
			done, err := r.redeliver(ctx, found)
			res.Redelivered += done.Redelivered
			res.GivenUp += done.GivenUp
			if err != nil {
				return res, since, fmt.Errorf("reconcile: %w", err)
			}
			if len(found) < r.opts.BatchSize {
				break
			}
			last := found[len(found)-1]
			w.From, w.AfterSeq = last.SentAt, last.Seq
		}
	}
	if res != (Reconciled{}) {
		slog.InfoContext(ctx, "outbox reconciled", "redelivered", res.Redelivered, "givenUp", res.GivenUp)
	}
	return res, until, nil
}

// redeliver publishes the events still within their redelivery budget and gives up on
// the others.
func (r *Relay) redeliver(ctx context.Context, found []Undelivered) (Reconciled, error) {
	var res Reconciled
	var again, exhausted []Undelivered
	for _, u := range found {
		if u.Attempts <= r.opts.MaxRedeliveries {
			again = append(again, u)
		} else {
			exhausted = append(exhausted, u)
		}
	}
	if len(again) > 0 {
		msgs := make([]bus.Message, len(again))
		for i, u := range again {
			msgs[i] = row{id: u.ID, topic: u.Topic, source: u.Source, aggregateID: u.AggregateID,
				payload: u.Payload, traceparent: u.Traceparent, createdAt: u.CreatedAt}.message(r.opts.TopicPrefix)
		}
		var ids []uuid.UUID
		var notes []string
		var sentAts []time.Time
		for i, err := range r.pub.Publish(ctx, msgs) {
			u := again[i]
			if err != nil {
				// Left as it is: the next pass tries again.
				slog.WarnContext(ctx, "redelivery failed", "eventId", u.ID, "topic", u.Topic, "error", err.Error())
				continue
			}
			slog.DebugContext(ctx, "event redelivered", "eventId", u.ID, "topic", u.Topic, "missing", u.Missing, "publishes", u.Attempts+1)
			ids, sentAts = append(ids, u.ID), append(sentAts, u.SentAt)
			notes = append(notes, fmt.Sprintf("redelivered: not recorded by %s after %d publishes", strings.Join(u.Missing, ", "), u.Attempts))
		}
		// sent_at moves on, so the next look at the event is after ago from now; the
		// guard on the old sent_at keeps two relays from counting one redelivery twice.
		tag, err := r.db.Exec(ctx, `
			UPDATE messaging.outbox o
			   SET attempts = o.attempts + 1, sent_at = now(), last_error = r.note
			  FROM unnest($1::uuid[], $2::timestamptz[], $3::text[]) AS r(id, sent_at, note)
			 WHERE o.id = r.id AND o.status = 'SENT' AND o.sent_at = r.sent_at`, ids, sentAts, notes)
		if err != nil {
			return res, fmt.Errorf("record %d redeliveries: %w", len(ids), err)
		}
		res.Redelivered = int(tag.RowsAffected())
	}
	for _, u := range exhausted {
		reason := fmt.Sprintf("not recorded by %s after %d publishes", strings.Join(u.Missing, ", "), u.Attempts)
		tag, err := r.db.Exec(ctx, `
			UPDATE messaging.outbox SET status = 'FAILED', last_error = $3
			 WHERE id = $1 AND status = 'SENT' AND sent_at = $2`, u.ID, u.SentAt, reason)
		if err != nil {
			return res, fmt.Errorf("give up on event %s: %w", u.ID, err)
		}
		if tag.RowsAffected() == 0 {
			continue // another relay did
		}
		res.GivenUp++
		// The message and fields are what the dead-letter metric and an operator match.
		slog.WarnContext(ctx, UndeliveredMessage, "eventId", u.ID, "topic", u.Topic, "aggregateId", u.AggregateID,
			"consumers", u.Missing, "publishes", u.Attempts, "firstWritten", u.CreatedAt, "error", reason)
	}
	return res, nil
}
