package reservations

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"go.opentelemetry.io/otel/trace"

	"github.com/8949market/market/shared/telemetry"
)

// waitingBatcher appends queued applicants in batches. At a deal's opening hundreds of
// applicants are admitted within milliseconds, each needing one row; one statement per
// row spends most of the database's time on per-statement and per-commit work, so
// applicants admitted while a batch is being written go together in the next one. There
// is no timer: an applicant alone is written at once, and a batch is only as large as
// what arrived during the previous one.
type waitingBatcher struct {
	db     *pgxpool.Pool
	reqs   chan *waitingReq
	active atomic.Int32
}

// The batcher's limits: batches written at once, applicants per batch, and the backlog
// beyond which an applicant is written on its own rather than wait.
const (
	maxFlushers  = 4
	maxBatch     = 256
	batchBacklog = 4096
	batchTimeout = 10 * time.Second
)

type waitingReq struct {
	id   uuid.UUID
	pos  int64
	who  Applicant
	done chan error
	// deadline is when the applicant stops waiting: a batch is cut off by the earliest
	// of its applicants', and one already past it is not written at all.
	deadline time.Time
	// span is the applicant's request's span; batch, set before done is answered, the
	// span of the batch that wrote it (startBatch).
	span, batch trace.SpanContext
}

// errPositionTaken is an applicant whose admitted position is already someone else's:
// Redis lost its state since.
var errPositionTaken = errors.New("position already taken")

func newWaitingBatcher(db *pgxpool.Pool) *waitingBatcher {
	return &waitingBatcher{db: db, reqs: make(chan *waitingReq, batchBacklog)}
}

// insert appends a WAITING application at pos, if the reservation takes applications now
// (by the database clock) and the applicant is not its seller; its refusals are
// insertApplication's, with a repeated applicant as ErrAlreadyApplied and a taken
// position as errPositionTaken. It waits for its batch whatever ctx says: once queued,
// the row may be written, and the caller must know. ctx's deadline bounds the batch it
// goes in, so the row is written by then or never.
func (b *waitingBatcher) insert(ctx context.Context, id uuid.UUID, pos int64, who Applicant) error {
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(batchTimeout)
	}
	span := trace.SpanFromContext(ctx)
	req := &waitingReq{id: id, pos: pos, who: who, done: make(chan error, 1), deadline: deadline, span: span.SpanContext()}
	select {
	case b.reqs <- req:
	default:
		return insertApplication(ctx, b.db, id, pos, "WAITING", who)
	}
	// Enqueue, then count flushers; a flusher uncounts itself, then looks at the queue
	// again: one of the two always sees the other, so no request is left behind.
	if b.active.Add(1) <= maxFlushers {
		go b.flush()
	} else {
		b.active.Add(-1)
	}
	err := <-req.done
	if req.batch.IsSampled() && req.batch.TraceID() != req.span.TraceID() && span.IsRecording() {
		span.AddLink(trace.Link{SpanContext: req.batch})
	}
	return err
}

func (b *waitingBatcher) flush() {
	for {
		for {
			batch := b.take()
			if len(batch) == 0 {
				break
			}
			b.write(batch)
		}
		b.active.Add(-1)
		if len(b.reqs) == 0 {
			return
		}
		if b.active.Add(1) > maxFlushers {
			b.active.Add(-1)
			return
		}
	}
}

// take returns what is queued, up to maxBatch, without waiting.
func (b *waitingBatcher) take() []*waitingReq {
	var batch []*waitingReq
	for len(batch) < maxBatch {
		select {
		case r := <-b.reqs:
			batch = append(batch, r)
		default:
			return batch
		}
	}
	return batch
}

// write inserts a batch in one statement and answers each applicant.
func (b *waitingBatcher) write(batch []*waitingReq) {
	now := time.Now()
	deadline := now.Add(batchTimeout)
	live := batch[:0]
	for _, r := range batch {
		if !r.deadline.After(now) {
			r.done <- fmt.Errorf("append application: %w", context.DeadlineExceeded)
			continue
		}
		live = append(live, r)
		if r.deadline.Before(deadline) {
			deadline = r.deadline
		}
	}
	batch = live
	if len(batch) == 0 {
		return
	}
	bctx, span := startBatch(batch)
	for _, r := range batch {
		r.batch = span.SpanContext()
	}
	var failed error
	defer func() { telemetry.End(span, failed) }()
	ctx, cancel := context.WithDeadline(bctx, deadline)
	defer cancel()
	ids := make([]uuid.UUID, len(batch))
	positions := make([]int64, len(batch))
	users := make([]uuid.UUID, len(batch))
	nicknames := make([]string, len(batch))
	for i, r := range batch {
		ids[i], positions[i], users[i], nicknames[i] = r.id, r.pos, r.who.UserID, r.who.Nickname
	}
	// Per applicant: whether its row went in, else the reservation's state that refused it;
	// a row refused by a unique constraint alone is told apart by whether the user is in.
	rows, err := b.db.Query(ctx, `
		WITH input AS (
		  SELECT * FROM unnest($1::uuid[], $2::bigint[], $3::uuid[], $4::text[]) AS t(reservation_id, position, user_id, nickname)
		), r AS (
		  SELECT id, status IN ('AVAILABLE', 'PENDING', 'PAID') AS open,
		         start_time <= clock_timestamp() AS started, end_time <= clock_timestamp() AS ended, seller_id
		    FROM reservations.reservations WHERE id IN (SELECT DISTINCT reservation_id FROM input)
		), ins AS (
		  INSERT INTO reservations.applications (reservation_id, position, user_id, nickname, status)
		  SELECT i.reservation_id, i.position, i.user_id, i.nickname, 'WAITING'
		    FROM input i JOIN r ON r.id = i.reservation_id
		   WHERE r.open AND r.started AND NOT r.ended AND r.seller_id <> i.user_id
		  ON CONFLICT DO NOTHING
		  RETURNING reservation_id, user_id
		)
		SELECT i.reservation_id, i.user_id, ins.user_id IS NOT NULL,
		       coalesce(r.open, false), coalesce(r.started, false), coalesce(r.ended, false),
		       coalesce(r.seller_id = i.user_id, false), r.id IS NOT NULL
		  FROM input i
		  LEFT JOIN r ON r.id = i.reservation_id
		  LEFT JOIN ins ON ins.reservation_id = i.reservation_id AND ins.user_id = i.user_id`,
		ids, positions, users, nicknames)
	if err != nil {
		failed = fmt.Errorf("append %d applications: %w", len(batch), err)
		b.fail(batch, failed)
		return
	}
	type key struct{ id, user uuid.UUID }
	type outcome struct{ inserted, open, started, ended, seller, found bool }
	got := make(map[key]outcome, len(batch))
	for rows.Next() {
		var k key
		var o outcome
		if err := rows.Scan(&k.id, &k.user, &o.inserted, &o.open, &o.started, &o.ended, &o.seller, &o.found); err != nil {
			rows.Close()
			failed = fmt.Errorf("append applications: %w", err)
			b.fail(batch, failed)
			return
		}
		got[k] = o
	}
	if err := rows.Err(); err != nil {
		failed = fmt.Errorf("append %d applications: %w", len(batch), err)
		b.fail(batch, failed)
		return
	}
	var conflicted []*waitingReq
	for _, r := range batch {
		switch o := got[key{r.id, r.who.UserID}]; {
		case o.inserted:
			r.done <- nil
		case !o.found:
			r.done <- ErrNotFound
		case !o.open:
			r.done <- ErrClosed
		case !o.started:
			r.done <- ErrNotOpen
		case o.ended:
			r.done <- ErrEnded
		case o.seller:
			r.done <- ErrSellerApplies
		default:
			conflicted = append(conflicted, r) // a unique constraint refused it
		}
	}
	if len(conflicted) > 0 {
		b.conflicts(ctx, conflicted)
	}
}

// conflicts answers the applicants a unique constraint refused: one already in the queue
// applied twice; anyone else was given a position that is taken.
func (b *waitingBatcher) conflicts(ctx context.Context, batch []*waitingReq) {
	ids := make([]uuid.UUID, len(batch))
	users := make([]uuid.UUID, len(batch))
	for i, r := range batch {
		ids[i], users[i] = r.id, r.who.UserID
	}
	rows, err := b.db.Query(ctx, `
		SELECT a.reservation_id, a.user_id FROM reservations.applications a
		  JOIN unnest($1::uuid[], $2::uuid[]) AS t(reservation_id, user_id)
		    ON a.reservation_id = t.reservation_id AND a.user_id = t.user_id`, ids, users)
	if err != nil {
		b.fail(batch, fmt.Errorf("read conflicting applications: %w", err))
		return
	}
	type key struct{ id, user uuid.UUID }
	in := map[key]bool{}
	var k key
	_, err = pgx.ForEachRow(rows, []any{&k.id, &k.user}, func() error {
		in[k] = true
		return nil
	})
	if err != nil {
		b.fail(batch, fmt.Errorf("read conflicting applications: %w", err))
		return
	}
	for _, r := range batch {
		if in[key{r.id, r.who.UserID}] {
			r.done <- ErrAlreadyApplied
		} else {
			r.done <- errPositionTaken
		}
	}
}

func (b *waitingBatcher) fail(batch []*waitingReq, err error) {
	for _, r := range batch {
		r.done <- err
	}
}
