// Package relay publishes the transactional outbox (messaging.outbox) to the stream.
//
// It claims committed rows in batches (FOR UPDATE SKIP LOCKED, then a lease written on the
// row), publishes them with the aggregate id as key / ordering key, and marks them sent. A
// failed row is retried with exponential back-off; after MaxAttempts it is marked FAILED
// and parked on its topic's dead-letter topic. It wakes on LISTEN/NOTIFY and also polls,
// so a lost notification only delays a row.
//
// Several relays may run at once. A row is claimed by one of them at a time; a relay that
// dies leaves a lease that expires, and the row is claimed again. A row is claimable only
// when no earlier row of its aggregate is still on its way (leased or backing off), so
// each aggregate's events are published in the order they were written, whichever relay
// publishes them. Claims (and failure marks, which change what is claimable) take a
// transaction-level advisory lock so that rule is checked against settled state; they
// are single short statements, while publishing runs in parallel outside.
//
// A broker may still lose what it acknowledged, and a consumer may refuse an event until
// it is dead-lettered. Given the consumers of each topic, the relay reconciles (Reconcile):
// an event sent a while ago that a consumer has not recorded in its inbox is published
// again, a bounded number of times, and then marked FAILED and reported.
package relay

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/8949market/market/shared/bus"
	"github.com/8949market/market/shared/events"
	"github.com/8949market/market/shared/inbox"
	"github.com/8949market/market/shared/telemetry"
)

// Options tune the relay; zero values take the defaults.
type Options struct {
	TopicPrefix    string        // put before every topic
	BatchSize      int           // rows per claim (default 500)
	Lease          time.Duration // how long a claim holds (default 30s)
	PollInterval   time.Duration // fallback poll when no notification comes (default 1s)
	MaxAttempts    int           // publish attempts before dead-lettering (default 8)
	BackoffBase    time.Duration // first retry delay (default 200ms), doubling
	BackoffMax     time.Duration // cap of the retry delay (default 1m)
	Retention      time.Duration // how long sent rows are kept (default 72h)
	InboxRetention time.Duration // how long inbox rows are kept (default 8 days, beyond Pub/Sub's 7-day redelivery)
	PruneInterval  time.Duration // how often to prune (default 10m)
	Instance       string        // this relay's name in leases (default hostname-random)

	// Consumers are the consumer functions of each topic. With them, Run reconciles: an
	// event sent RedeliverAfter ago that one of them has not recorded is published again,
	// at most MaxRedeliveries times, then marked FAILED and reported (see Reconcile).
	Consumers         Consumers
	RedeliverAfter    time.Duration // default 15m: beyond a healthy consumer's lag
	ReconcileInterval time.Duration // how often Run reconciles (default 5m)
	MaxRedeliveries   int           // default 3

	// BacklogInterval is how often at most Run counts the PENDING rows for the gauges
	// market.outbox.backlog and market.outbox.oldest.age (default 15s); a collection in
	// between reports the last count.
	BacklogInterval time.Duration
}

func (o *Options) defaults() {
	if o.BatchSize <= 0 {
		o.BatchSize = 500
	}
	if o.Lease <= 0 {
		o.Lease = 30 * time.Second
	}
	if o.PollInterval <= 0 {
		o.PollInterval = time.Second
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 8
	}
	if o.BackoffBase <= 0 {
		o.BackoffBase = 200 * time.Millisecond
	}
	if o.BackoffMax <= 0 {
		o.BackoffMax = time.Minute
	}
	if o.Retention <= 0 {
		o.Retention = 72 * time.Hour
	}
	if o.InboxRetention <= 0 {
		o.InboxRetention = 8 * 24 * time.Hour
	}
	if o.PruneInterval <= 0 {
		o.PruneInterval = 10 * time.Minute
	}
	// The reconciler reads a consumer's missing inbox row as a lost event: an inbox row
	// must outlive the outbox row it answers.
	o.InboxRetention = max(o.InboxRetention, o.Retention+24*time.Hour)
	if o.RedeliverAfter <= 0 {
		o.RedeliverAfter = 15 * time.Minute
	}
	if o.ReconcileInterval <= 0 {
		o.ReconcileInterval = 5 * time.Minute
	}
	if o.MaxRedeliveries <= 0 {
		o.MaxRedeliveries = 3
	}
	if o.BacklogInterval <= 0 {
		o.BacklogInterval = 15 * time.Second
	}
	if o.Instance == "" {
		host, _ := os.Hostname()
		o.Instance = fmt.Sprintf("%s-%s", host, uuid.NewString()[:8])
	}
}

// Relay publishes the outbox.
type Relay struct {
	db   *pgxpool.Pool
	pub  bus.Publisher
	opts Options
}

// New returns a relay publishing db's outbox through pub.
func New(db *pgxpool.Pool, pub bus.Publisher, opts Options) *Relay {
	opts.defaults()
	return &Relay{db: db, pub: pub, opts: opts}
}

// claimLock serialises claims and failure marks between relays (see the package comment).
const claimLock = 8949_0001

// row is a claimed outbox row.
type row struct {
	id          uuid.UUID
	topic       string
	source      string
	aggregateID string
	payload     []byte
	traceparent *string
	createdAt   time.Time
	attempts    int
}

func (r row) message(prefix string) bus.Message {
	m := bus.Message{
		ID: r.id.String(), Type: r.topic, Source: r.source, Subject: r.aggregateID,
		Time: r.createdAt, Data: r.payload, Topic: prefix + r.topic,
	}
	if r.traceparent != nil {
		m.Traceparent = *r.traceparent
	}
	return m
}

// claim leases up to BatchSize publishable rows, in write order.
func (r *Relay) claim(ctx context.Context) ([]row, error) {
	var rows []row
	err := pgx.BeginFunc(ctx, r.db, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, claimLock); err != nil {
			return err
		}
		res, err := tx.Query(ctx, `
			WITH blocked AS MATERIALIZED (
			    -- Aggregates with a row on its way (leased, or backing off) and the first
			    -- such row: nothing after it may overtake it.
			    SELECT aggregate_id, min(seq) AS seq
			      FROM messaging.outbox
			     WHERE status = 'PENDING'
			       AND ((locked_until IS NOT NULL AND locked_until >= now())
			            OR (attempts > 0 AND next_attempt_at > now()))
			     GROUP BY aggregate_id),
			claimable AS (
			    SELECT o.id
			      FROM messaging.outbox o
			     WHERE o.status = 'PENDING'
			       AND o.next_attempt_at <= now()
			       AND (o.locked_until IS NULL OR o.locked_until < now())
			       AND NOT EXISTS (SELECT 1 FROM blocked b WHERE b.aggregate_id = o.aggregate_id AND b.seq < o.seq)
			     ORDER BY o.seq
			     LIMIT $1
			     FOR UPDATE SKIP LOCKED)
			UPDATE messaging.outbox o
			   SET locked_by = $2, locked_until = now() + make_interval(secs => $3)
			  FROM claimable c
			 WHERE o.id = c.id
			RETURNING o.id, o.seq, o.topic, o.source, o.aggregate_id, o.payload, o.traceparent, o.created_at, o.attempts`,
			r.opts.BatchSize, r.opts.Instance, r.opts.Lease.Seconds())
		if err != nil {
			return err
		}
		type seqRow struct {
			seq int64
			row
		}
		var claimed []seqRow
		for res.Next() {
			var s seqRow
			if err := res.Scan(&s.id, &s.seq, &s.topic, &s.source, &s.aggregateID, &s.payload,
				&s.traceparent, &s.createdAt, &s.attempts); err != nil {
				return err
			}
			claimed = append(claimed, s)
		}
		if err := res.Err(); err != nil {
			return err
		}
		// UPDATE ... RETURNING does not keep the CTE's order.
		sortBySeq(claimed, func(s seqRow) int64 { return s.seq })
		rows = make([]row, len(claimed))
		for i, s := range claimed {
			rows[i] = s.row
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("claim outbox rows: %w", err)
	}
	return rows, nil
}

// Drain publishes until nothing is claimable and returns how many rows it published.
func (r *Relay) Drain(ctx context.Context) (int, error) {
	total := 0
	for ctx.Err() == nil {
		n, more, err := r.batch(ctx)
		total += n
		if err != nil || !more {
			return total, err
		}
	}
	return total, ctx.Err()
}

// batch claims, publishes and records one batch under a relay.claim span (each row's
// publish span links it), and says whether a full batch was claimed.
func (r *Relay) batch(ctx context.Context) (sent int, more bool, err error) {
	ctx, span := telemetry.Tracer.Start(ctx, "relay.claim", trace.WithAttributes(
		attribute.Int("market.relay.batch_size", r.opts.BatchSize), attribute.String("market.relay.instance", r.opts.Instance)))
	defer func() {
		span.SetAttributes(attribute.Int("market.relay.rows_sent", sent))
		telemetry.End(span, err)
	}()
	// A claim, once started, completes: cut off by cancellation it could commit its
	// leases unseen and hold those rows back until the leases expire.
	claimCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), r.opts.Lease)
	rows, err := r.claim(claimCtx)
	cancel()
	span.SetAttributes(attribute.Int("market.relay.rows_claimed", len(rows)))
	if err != nil || len(rows) == 0 {
		return 0, false, err
	}
	// Once claimed, a batch is published and marked even if ctx ends meanwhile:
	// stopping mid-batch would only leave leases to expire.
	sent, err = r.publish(context.WithoutCancel(ctx), rows)
	return sent, err == nil && len(rows) == r.opts.BatchSize, err
}

// publish publishes rows and records the outcome of each.
func (r *Relay) publish(ctx context.Context, rows []row) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, r.opts.Lease)
	defer cancel()
	claim := trace.SpanContextFromContext(ctx)
	msgs := make([]bus.Message, len(rows))
	spans := make([]trace.Span, len(rows))
	for i, rw := range rows {
		msgs[i] = rw.message(r.opts.TopicPrefix)
		spans[i], msgs[i].Traceparent = startRowSpan(ctx, "publish", rw, msgs[i].Topic, claim)
	}
	errs := r.pub.Publish(ctx, msgs)
	acked := time.Now()
	var sent []uuid.UUID
	var failed []failure
	headFailed := map[string]bool{}
	sentOf := map[string]int64{} // by topic
	for i, err := range errs {
		telemetry.End(spans[i], err)
		topic := topicAttr(rows[i].topic)
		if err == nil {
			sent = append(sent, rows[i].id)
			sentOf[rows[i].topic]++
			lag.Record(ctx, max(acked.Sub(rows[i].createdAt).Seconds(), 0), topic)
			continue
		}
		publishFailures.Add(ctx, 1, topic)
		// Only the first failed row of an aggregate spends an attempt: the rows behind it
		// fail with it (the broker keeps their order) and must not be dead-lettered for
		// their predecessor's fault.
		agg := rows[i].aggregateID
		failed = append(failed, failure{row: rows[i], err: err, behind: headFailed[agg]})
		headFailed[agg] = true
	}
	for topic, n := range sentOf {
		published.Add(ctx, n, topicAttr(topic))
	}
	if len(sent) > 0 {
		_, err := r.db.Exec(ctx, `
			UPDATE messaging.outbox
			   SET status = 'SENT', sent_at = now(), attempts = attempts + 1,
			       locked_by = NULL, locked_until = NULL, last_error = NULL
			 WHERE id = ANY($1) AND status = 'PENDING'`, sent)
		if err != nil {
			return 0, fmt.Errorf("mark %d outbox rows sent: %w", len(sent), err)
		}
	}
	if len(failed) > 0 {
		if err := r.fail(ctx, failed); err != nil {
			return len(sent), err
		}
	}
	return len(sent), nil
}

type failure struct {
	row    row
	err    error
	behind bool // an earlier row of the same aggregate in the batch failed too
}

// fail schedules a retry of each failed row, or dead-letters it after MaxAttempts.
func (r *Relay) fail(ctx context.Context, failed []failure) error {
	var dead []failure
	err := pgx.BeginFunc(ctx, r.db, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, claimLock); err != nil {
			return err
		}
		for _, f := range failed {
			if f.behind {
				// Released without a penalty; the claim rule holds it back until the
				// failed row ahead of it is sent or dead-lettered.
				if _, err := tx.Exec(ctx, `
					UPDATE messaging.outbox SET locked_by = NULL, locked_until = NULL WHERE id = $1`, f.row.id); err != nil {
					return err
				}
				continue
			}
			attempts := f.row.attempts + 1
			if attempts >= r.opts.MaxAttempts {
				dead = append(dead, f)
				if _, err := tx.Exec(ctx, `
					UPDATE messaging.outbox
					   SET status = 'FAILED', attempts = $2, last_error = $3, locked_by = NULL, locked_until = NULL
					 WHERE id = $1`, f.row.id, attempts, f.err.Error()); err != nil {
					return err
				}
				continue
			}
			if _, err := tx.Exec(ctx, `
				UPDATE messaging.outbox
				   SET attempts = $2, last_error = $3, locked_by = NULL, locked_until = NULL,
				       next_attempt_at = now() + make_interval(secs => $4)
				 WHERE id = $1`, f.row.id, attempts, f.err.Error(), r.backoff(attempts).Seconds()); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("record %d failed publishes: %w", len(failed), err)
	}
	for _, f := range failed {
		if !f.behind {
			slog.WarnContext(ctx, "outbox publish failed", "eventId", f.row.id, "topic", f.row.topic,
				"attempt", f.row.attempts+1, "error", f.err.Error())
		}
	}
	if len(dead) > 0 {
		r.deadLetter(ctx, dead)
	}
	return nil
}

// deadLetter parks rows that exhausted their attempts on their dead-letter topic. The row
// stays FAILED in the outbox either way, where an operator can see and replay it.
func (r *Relay) deadLetter(ctx context.Context, dead []failure) {
	claim := trace.SpanContextFromContext(ctx)
	msgs := make([]bus.Message, len(dead))
	spans := make([]trace.Span, len(dead))
	for i, f := range dead {
		m := f.row.message(r.opts.TopicPrefix)
		m.Topic += events.DeadLetterSuffix
		m.Reason = "publish failed " + fmt.Sprint(f.row.attempts+1) + " times: " + f.err.Error()
		spans[i], m.Traceparent = startRowSpan(ctx, "deadletter", f.row, m.Topic, claim)
		msgs[i] = m
		bus.CountDeadLetter(ctx, f.row.topic, bus.DeadLetterRelay)
	}
	for i, err := range r.pub.Publish(ctx, msgs) {
		telemetry.End(spans[i], err)
		level := slog.LevelError
		msg := "outbox row dead-lettered"
		if err != nil {
			msg = "outbox row failed and could not be dead-lettered; it stays FAILED in messaging.outbox"
		}
		slog.Log(ctx, level, msg, "eventId", dead[i].row.id, "topic", dead[i].row.topic, "deadLetterTopic", msgs[i].Topic, "error", errors.Join(dead[i].err, err).Error())
	}
}

func (r *Relay) backoff(attempt int) time.Duration {
	d := r.opts.BackoffBase << min(attempt-1, 20)
	if d > r.opts.BackoffMax || d <= 0 {
		d = r.opts.BackoffMax
	}
	// Jitter keeps many relays from retrying in lockstep against a recovering broker.
	return d/2 + time.Duration(rand.Int64N(int64(d/2)+1))
}

// Prune deletes sent rows past the retention, and inbox rows past theirs.
func (r *Relay) Prune(ctx context.Context) (outboxRows, inboxRows int64, err error) {
	for {
		tag, err := r.db.Exec(ctx, `
			DELETE FROM messaging.outbox
			 WHERE id IN (SELECT id FROM messaging.outbox
			               WHERE status = 'SENT' AND sent_at < now() - make_interval(secs => $1)
			               LIMIT 5000)`, r.opts.Retention.Seconds())
		if err != nil {
			return outboxRows, 0, fmt.Errorf("prune outbox: %w", err)
		}
		outboxRows += tag.RowsAffected()
		if tag.RowsAffected() < 5000 {
			break
		}
	}
	inboxRows, err = inbox.Prune(ctx, r.db, r.opts.InboxRetention)
	return outboxRows, inboxRows, err
}
