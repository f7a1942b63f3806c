package relay

import (
	"cmp"
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
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/8949market/market/shared/bus"
	"github.com/8949market/market/shared/telemetry"
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
	AggregateID string
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
		SELECT o.id, o.seq, o.topic, o.aggregate_id, o.created_at, o.sent_at, o.attempts, m.missing
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
		err := row.Scan(&u.ID, &u.Seq, &u.Topic, &u.AggregateID, &u.CreatedAt, &u.SentAt, &u.Attempts, &u.Missing)
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
	// Waiting are events behind an earlier event of their aggregate that is not recorded
	// yet: they go once it is (or once it is given up).
	Waiting int
}

// reconcileSlice bounds the sent rows one statement of a pass walks, so a pass over days
// of retained rows is many short statements rather than one long one.
const reconcileSlice = time.Hour

// UndeliveredMessage is the warning logged, once per event, when the relay gives up
// redelivering an event a consumer never recorded (market.deadletters{source=reconcile}
// counts it; the operator's command lists the row, FAILED, and replays it).
const UndeliveredMessage = "event never recorded by its consumers; redelivery given up"

// Reconcile runs one pass over the events sent since since that a consumer of their topic
// has not recorded in its inbox. Of each aggregate's, the first (in write order) is
// published again if it was sent before cutoff (zero: RedeliverAfter before the
// database's clock; later, it is still on its way) or, once published 1 +
// MaxRedeliveries times, marked FAILED with the consumers it misses and reported
// (UndeliveredMessage), where an operator finds and replays it. The events behind it
// wait until it is recorded or given up: the events of one aggregate travel on several
// topics, and a consumer may need the first before the next (a reservation must exist
// before product-cancelled can cancel it). Every consumer dedupes through its inbox, so
// those that have an event see no second effect.
//
// It returns what it did and the since of the next pass: cutoff, or the first waiting
// event's sent_at. A zero since means every retained row.
func (r *Relay) Reconcile(ctx context.Context, since, cutoff time.Time) (res Reconciled, next time.Time, err error) {
	if len(r.opts.Consumers) == 0 {
		return res, since, nil
	}
	ctx, span := telemetry.Tracer.Start(ctx, "relay.reconcile", trace.WithAttributes(attribute.String("market.relay.instance", r.opts.Instance)))
	defer func() {
		span.SetAttributes(attribute.Int("market.relay.redelivered", res.Redelivered), attribute.Int("market.relay.given_up", res.GivenUp),
			attribute.Int("market.relay.waiting", res.Waiting))
		telemetry.End(span, err)
	}()
	return r.reconcile(ctx, since, cutoff)
}

func (r *Relay) reconcile(ctx context.Context, since, cutoff time.Time) (Reconciled, time.Time, error) {
	var res Reconciled
	var now time.Time
	var first *time.Time
	if err := r.db.QueryRow(ctx, `
		SELECT now(), (SELECT min(sent_at) FROM messaging.outbox WHERE status = 'SENT' AND sent_at >= $1)`,
		since).Scan(&now, &first); err != nil {
		return res, since, fmt.Errorf("reconcile: %w", err)
	}
	if cutoff.IsZero() {
		cutoff = now.Add(-r.opts.RedeliverAfter)
	}
	next := cutoff
	if first == nil {
		return res, next, nil
	}
	// Up to now, not only to cutoff: an event on its way holds back those behind it.
	var found []Undelivered
	end := now.Add(time.Second) // sent_at is the start of its transaction; leave no edge
	for from := *first; from.Before(end); from = from.Add(reconcileSlice) {
		w := Window{From: from, AfterSeq: -1, To: from.Add(reconcileSlice)}
		if w.To.After(end) {
			w.To = end
		}
		for {
			page, err := FindUndelivered(ctx, r.db, r.opts.Consumers, w, r.opts.BatchSize)
			if err != nil {
				return res, since, fmt.Errorf("reconcile: %w", err)
			}
			found = append(found, page...)
			if len(page) < r.opts.BatchSize {
				break
			}
			last := page[len(page)-1]
			w.From, w.AfterSeq = last.SentAt, last.Seq
		}
	}

	// The first of each aggregate, in write order; a redelivered event has a later
	// sent_at than those written after it, so order by seq, not by the scan.
	slices.SortFunc(found, func(a, b Undelivered) int { return cmp.Compare(a.Seq, b.Seq) })
	head := map[string]bool{}
	var again, exhausted []Undelivered
	for _, u := range found {
		switch {
		case head[u.AggregateID]:
			res.Waiting++
			if u.SentAt.Before(next) {
				next = u.SentAt
			}
		case !u.SentAt.Before(cutoff):
			head[u.AggregateID] = true // on its way
		case u.Attempts <= r.opts.MaxRedeliveries:
			head[u.AggregateID] = true
			again = append(again, u)
		default:
			// Given up: it no longer holds back the events behind it, which go in a later
			// pass (not this one, so the order of the aggregate is still the write order).
			head[u.AggregateID] = true
			exhausted = append(exhausted, u)
		}
	}
	for batch := range slices.Chunk(again, r.opts.BatchSize) {
		n, err := r.redeliver(ctx, batch)
		res.Redelivered += n
		if err != nil {
			return res, since, fmt.Errorf("reconcile: %w", err)
		}
	}
	n, err := r.giveUp(ctx, exhausted)
	res.GivenUp += n
	if err != nil {
		return res, since, fmt.Errorf("reconcile: %w", err)
	}
	if res.Redelivered+res.GivenUp > 0 {
		slog.InfoContext(ctx, "outbox reconciled", "redelivered", res.Redelivered, "givenUp", res.GivenUp, "waiting", res.Waiting)
	}
	return res, next, nil
}

// redeliver publishes events again and records it on their rows.
func (r *Relay) redeliver(ctx context.Context, batch []Undelivered) (int, error) {
	ids := make([]uuid.UUID, len(batch))
	for i, u := range batch {
		ids[i] = u.ID
	}
	rows, err := r.db.Query(ctx, `
		SELECT id, topic, source, aggregate_id, payload, traceparent, created_at
		  FROM messaging.outbox WHERE id = ANY($1)`, ids)
	if err != nil {
		return 0, fmt.Errorf("load events to redeliver: %w", err)
	}
	loaded, err := pgx.CollectRows(rows, func(cr pgx.CollectableRow) (row, error) {
		var rw row
		err := cr.Scan(&rw.id, &rw.topic, &rw.source, &rw.aggregateID, &rw.payload, &rw.traceparent, &rw.createdAt)
		return rw, err
	})
	if err != nil {
		return 0, fmt.Errorf("load events to redeliver: %w", err)
	}
	byID := make(map[uuid.UUID]row, len(loaded))
	for _, rw := range loaded {
		byID[rw.id] = rw
	}
	pass := trace.SpanContextFromContext(ctx)
	var msgs []bus.Message
	var sent []Undelivered
	var spans []trace.Span
	for _, u := range batch {
		if rw, ok := byID[u.ID]; ok { // pruned meanwhile otherwise
			m := rw.message(r.opts.TopicPrefix)
			var span trace.Span
			span, m.Traceparent = startRowSpan(ctx, "redeliver", rw, m.Topic, pass)
			span.SetAttributes(attribute.StringSlice("market.missing_consumers", u.Missing), attribute.Int("market.publishes", u.Attempts+1))
			msgs, sent, spans = append(msgs, m), append(sent, u), append(spans, span)
		}
	}
	var done []uuid.UUID
	var sentAts []time.Time
	var notes []string
	for i, err := range r.pub.Publish(ctx, msgs) {
		telemetry.End(spans[i], err)
		u := sent[i]
		if err != nil {
			// Left as it is: the next pass tries again.
			slog.WarnContext(ctx, "redelivery failed", "eventId", u.ID, "topic", u.Topic, "error", err.Error())
			continue
		}
		slog.DebugContext(ctx, "event redelivered", "eventId", u.ID, "topic", u.Topic, "missing", u.Missing, "publishes", u.Attempts+1)
		done, sentAts = append(done, u.ID), append(sentAts, u.SentAt)
		notes = append(notes, fmt.Sprintf("redelivered: not recorded by %s after %d publishes", strings.Join(u.Missing, ", "), u.Attempts))
	}
	// sent_at moves on, so the next look at the event is RedeliverAfter from now; the
	// guard on the old sent_at keeps two relays from counting one redelivery twice.
	tag, err := r.db.Exec(ctx, `
		UPDATE messaging.outbox o
		   SET attempts = o.attempts + 1, sent_at = now(), last_error = r.note
		  FROM unnest($1::uuid[], $2::timestamptz[], $3::text[]) AS r(id, sent_at, note)
		 WHERE o.id = r.id AND o.status = 'SENT' AND o.sent_at = r.sent_at`, done, sentAts, notes)
	if err != nil {
		return 0, fmt.Errorf("record %d redeliveries: %w", len(done), err)
	}
	return int(tag.RowsAffected()), nil
}

// giveUp marks events FAILED that were published 1 + MaxRedeliveries times and still
// miss a consumer, and reports each once.
func (r *Relay) giveUp(ctx context.Context, exhausted []Undelivered) (int, error) {
	n := 0
	for _, u := range exhausted {
		reason := fmt.Sprintf("not recorded by %s after %d publishes", strings.Join(u.Missing, ", "), u.Attempts)
		tag, err := r.db.Exec(ctx, `
			UPDATE messaging.outbox SET status = 'FAILED', last_error = $3
			 WHERE id = $1 AND status = 'SENT' AND sent_at = $2`, u.ID, u.SentAt, reason)
		if err != nil {
			return n, fmt.Errorf("give up on event %s: %w", u.ID, err)
		}
		if tag.RowsAffected() == 0 {
			continue // another relay did
		}
		n++
		bus.CountDeadLetter(ctx, u.Topic, bus.DeadLetterReconcile)
		// The message and fields are what the dead-letter metric and an operator match.
		slog.WarnContext(ctx, UndeliveredMessage, "eventId", u.ID, "topic", u.Topic, "aggregateId", u.AggregateID,
			"consumers", u.Missing, "publishes", u.Attempts, "firstWritten", u.CreatedAt, "error", reason)
	}
	return n, nil
}

// Recover is for a start after the broker lost its log (the dev stack's in-process
// brokers keep it in memory): every event sent before before that a consumer has not
// recorded is taken for lost and published again, each aggregate's in write order, the
// next once the one before it is recorded. It reconciles every poll until nothing is
// waiting, or nothing moved for quiet (what waits behind an event no consumer takes is
// left to Run's reconciliation, which gives that event up in time). It returns the sum of
// its passes.
func (r *Relay) Recover(ctx context.Context, before time.Time, poll, quiet time.Duration) (Reconciled, error) {
	var total Reconciled
	moved := time.Now()
	for {
		res, _, err := r.Reconcile(ctx, time.Time{}, before)
		total.Redelivered += res.Redelivered
		total.GivenUp += res.GivenUp
		total.Waiting = res.Waiting
		if err != nil {
			return total, err
		}
		if res.Redelivered+res.GivenUp > 0 {
			moved = time.Now()
		}
		if res.Waiting == 0 || time.Since(moved) > quiet {
			return total, nil
		}
		select {
		case <-ctx.Done():
			return total, ctx.Err()
		case <-time.After(poll):
		}
	}
}

// Now is the database's clock, which sent_at is written by.
func (r *Relay) Now(ctx context.Context) (time.Time, error) {
	var now time.Time
	if err := r.db.QueryRow(ctx, `SELECT now()`).Scan(&now); err != nil {
		return now, fmt.Errorf("database clock: %w", err)
	}
	return now, nil
}
