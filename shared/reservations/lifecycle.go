package reservations

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"

	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/events"
	"github.com/8949market/market/shared/fault"
	"github.com/8949market/market/shared/inbox"
	"github.com/8949market/market/shared/outbox"
)

// More faults of the reservation lifecycle.
var (
	ErrReasonRequired = fault.New(fault.Invalid, "R001", "reason is required")
	ErrForbidden      = fault.New(fault.Forbidden, "R005", "you may not do this to this reservation")
	ErrNotApplied     = fault.New(fault.Conflict, "R003", "you are not waiting in this reservation's queue")
)

// state is a reservation as the lifecycle changes it, under its row lock.
type state struct {
	Reservation
	BuyerPosition   *int64
	PaymentDeadline *time.Time
	Version         int64

	tx      pgx.Tx
	changed bool
}

// Lifecycle runs the reservation's transitions after the apply: payment, cancellations,
// completion, promotion of the next applicant, and what other domains' events do to it.
// Every transition writes a history row, and every terminal or compensating one an event,
// in the transaction of the change.
type Lifecycle struct {
	db            *pgxpool.Pool
	queue         *Queue
	paymentWindow time.Duration
}

// NewLifecycle returns the lifecycle on db; the admission state in rdb is dropped whenever
// a change reopens the buyer's place or closes the reservation. paymentWindow is how long
// a promoted buyer has to pay (DefaultPaymentWindow when 0).
func NewLifecycle(db *pgxpool.Pool, rdb *redis.Client, paymentWindow time.Duration) *Lifecycle {
	queue := NewQueue(db, rdb, paymentWindow)
	return &Lifecycle{db: db, queue: queue, paymentWindow: queue.paymentWindow}
}

const stateColumns = `id, product_id, seller_id, seller_nickname, product_name, product_price, start_time, end_time,
	status, buyer_id, coalesce(buyer_nickname, ''), buyer_position, payment_deadline, version, created_at, modified_at`

func scanState(row pgx.Row) (state, error) {
	var s state
	err := row.Scan(&s.ID, &s.ProductID, &s.SellerID, &s.SellerNickname, &s.ProductName, &s.ProductPrice,
		&s.StartTime, &s.EndTime, &s.Status, &s.BuyerID, &s.BuyerNickname, &s.BuyerPosition, &s.PaymentDeadline,
		&s.Version, &s.CreatedAt, &s.ModifiedAt)
	return s, err
}

// change runs fn on reservation id under its row lock, in a transaction of its own or in
// tx when given (event consumers run in their inbox transaction). byProduct finds the
// reservation by its product instead.
func (l *Lifecycle) change(ctx context.Context, tx pgx.Tx, where string, key uuid.UUID, fn func(s *state) error) error {
	run := func(tx pgx.Tx) error {
		s, err := scanState(tx.QueryRow(ctx, `SELECT `+stateColumns+` FROM reservations.reservations WHERE `+where+` = $1 FOR UPDATE`, key))
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("lock reservation: %w", err)
		}
		s.tx = tx
		if err := fn(&s); err != nil {
			return err
		}
		if !s.changed {
			return nil
		}
		_, err = tx.Exec(ctx, `
			UPDATE reservations.reservations
			   SET status = $2, buyer_id = $3, buyer_nickname = nullif($4, ''), buyer_position = $5,
			       payment_deadline = $6, version = $7, modified_at = clock_timestamp(),
			       product_name = $8, product_price = $9, start_time = $10, end_time = $11
			 WHERE id = $1`,
			s.ID, s.Status, s.BuyerID, s.BuyerNickname, s.BuyerPosition, s.PaymentDeadline, s.Version,
			s.ProductName, s.ProductPrice, s.StartTime, s.EndTime)
		if err != nil {
			return fmt.Errorf("write reservation %s: %w", s.ID, err)
		}
		return nil
	}
	if tx != nil {
		return run(tx)
	}
	return pgx.BeginFunc(ctx, l.db, run)
}

// move records a transition: status, version, history.
func (s *state) move(ctx context.Context, to Status, by *uuid.UUID, comment string) error {
	from := s.Status
	s.Status = to
	s.Version++
	s.changed = true
	_, err := s.tx.Exec(ctx, `
		INSERT INTO reservations.history (id, reservation_id, previous_status, new_status, comment, changed_by)
		VALUES ($1, $2, $3, $4, $5, $6)`, uuid.New(), s.ID, from, to, comment, by)
	if err != nil {
		return fmt.Errorf("write history: %w", err)
	}
	return nil
}

// emit writes one of the reservation's events with its current state.
func (s *state) emit(ctx context.Context, topic, reason string) error {
	return outbox.Write(ctx, s.tx, outbox.Event{
		Topic: topic, Source: events.SourceReservations, AggregateID: s.ID.String(),
		Data: events.ReservationData{
			ReservationID: s.ID, ProductID: s.ProductID, Version: s.Version, Status: string(s.Status),
			SellerID: s.SellerID, SellerNickname: s.SellerNickname, BuyerID: s.BuyerID, BuyerNickname: s.BuyerNickname, Price: s.ProductPrice,
			ProductName: s.ProductName,
			Reason:      reason,
		},
	})
}

// dropBuyer marks the current buyer's application with status and clears the buyer.
func (s *state) dropBuyer(ctx context.Context, status string) error {
	if s.BuyerPosition != nil {
		if _, err := s.tx.Exec(ctx, `
			UPDATE reservations.applications SET status = $3, modified_at = clock_timestamp()
			 WHERE reservation_id = $1 AND position = $2`, s.ID, *s.BuyerPosition, status); err != nil {
			return fmt.Errorf("drop buyer: %w", err)
		}
	}
	s.BuyerID, s.BuyerNickname, s.BuyerPosition, s.PaymentDeadline = nil, "", nil, nil
	s.changed = true
	return nil
}

// promote gives the reservation to the next waiting applicant (PENDING, a new payment
// deadline, reservation-applied). With nobody waiting, the deal is open again while its
// window is, and ends otherwise; either way reservation-cancelled tells the product.
func (l *Lifecycle) promote(ctx context.Context, s *state, by *uuid.UUID, why string) error {
	var pos int64
	var user uuid.UUID
	var nick string
	err := s.tx.QueryRow(ctx, `
		UPDATE reservations.applications SET status = 'SELECTED', modified_at = clock_timestamp()
		 WHERE reservation_id = $1 AND position = (
		       SELECT position FROM reservations.applications
		        WHERE reservation_id = $1 AND status = 'WAITING' ORDER BY position LIMIT 1)
		RETURNING position, user_id, nickname`, s.ID).Scan(&pos, &user, &nick)
	switch {
	case err == nil:
		deadline := time.Now().Add(l.paymentWindow).UTC().Truncate(time.Microsecond)
		s.BuyerID, s.BuyerNickname, s.BuyerPosition, s.PaymentDeadline = &user, nick, &pos, &deadline
		if err := s.move(ctx, Pending, by, why+"; next applicant selected"); err != nil {
			return err
		}
		return s.emit(ctx, events.ReservationApplied, why)
	case !errors.Is(err, pgx.ErrNoRows):
		return fmt.Errorf("promote: %w", err)
	}
	if time.Now().Before(s.EndTime) {
		if err := s.move(ctx, Available, by, why+"; nobody waiting, open again"); err != nil {
			return err
		}
		return s.emit(ctx, events.ReservationCancelled, why)
	}
	if err := s.move(ctx, Cancelled, by, why+"; nobody waiting and the deal has ended"); err != nil {
		return err
	}
	return s.emit(ctx, events.ReservationCancelled, why)
}

// after runs what must follow a committed change of the queue outside the database: the
// reservation's admission state (buyer's place, queue length) is rebuilt from Postgres on
// the next apply.
func (l *Lifecycle) after(ctx context.Context, id uuid.UUID, reset bool, err error) error {
	if err != nil || !reset {
		return err
	}
	if ferr := l.queue.Forget(context.WithoutCancel(ctx), id); ferr != nil {
		return fault.ErrUnavailable.WithMessage("saved, but the queue could not be reset; it is repaired by the next sweep").Wrap(ferr)
	}
	return nil
}

func reason(r string) (string, error) {
	r = strings.TrimSpace(r)
	if r == "" {
		return "", ErrReasonRequired.OnField("reason")
	}
	if len(r) > 500 {
		return "", fault.ErrValidation.WithMessage("reason must be at most 500 characters").OnField("reason")
	}
	return r, nil
}

// CancelByBuyer withdraws the buyer (the buyer or an administrator) before the trade; the
// next applicant is promoted.
func (l *Lifecycle) CancelByBuyer(ctx context.Context, id uuid.UUID, caller auth.Identity, why string) error {
	why, err := reason(why)
	if err != nil {
		return err
	}
	err = l.change(ctx, nil, "id", id, func(s *state) error {
		isBuyer := s.BuyerID != nil && caller.Owns(*s.BuyerID)
		if !isBuyer && !caller.IsAdmin() {
			return ErrForbidden
		}
		if s.Status != Pending && s.Status != Paid {
			return ErrClosed.WithMessage("only a reservation awaiting payment or completion can be cancelled by its buyer")
		}
		if err := s.dropBuyer(ctx, "CANCELLED"); err != nil {
			return err
		}
		err = l.promote(ctx, s, &caller.UserID, "buyer cancelled: "+why)
		return err
	})
	return l.after(ctx, id, true, err)
}

// Leave takes the caller's waiting application out of the queue.
func (l *Lifecycle) Leave(ctx context.Context, id uuid.UUID, caller auth.Identity) error {
	err := l.change(ctx, nil, "id", id, func(s *state) error {
		tag, err := s.tx.Exec(ctx, `
			UPDATE reservations.applications SET status = 'LEFT', modified_at = clock_timestamp()
			 WHERE reservation_id = $1 AND user_id = $2 AND status = 'WAITING'`, s.ID, caller.UserID)
		if err != nil {
			return fmt.Errorf("leave queue: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return ErrNotApplied
		}
		return nil
	})
	// The queue is shorter: places given from now on are counted afresh.
	return l.after(ctx, id, true, err)
}

// ConfirmPayment records the buyer's payment (administrators; there is no payment
// service yet, so an operator or a payment system's service account confirms).
func (l *Lifecycle) ConfirmPayment(ctx context.Context, id uuid.UUID, caller auth.Identity) error {
	if !caller.IsAdmin() {
		return ErrForbidden
	}
	return l.change(ctx, nil, "id", id, func(s *state) error {
		if s.Status != Pending {
			return ErrClosed.WithMessage("only a reservation awaiting payment can be paid")
		}
		if s.PaymentDeadline != nil && !time.Now().Before(*s.PaymentDeadline) {
			return ErrClosed.WithMessage("the payment deadline has passed")
		}
		s.PaymentDeadline = nil
		return s.move(ctx, Paid, &caller.UserID, "payment confirmed")
	})
}

// Complete hands a paid reservation to its trade (the seller or an administrator):
// reservation-completed carries both parties for the trade.
func (l *Lifecycle) Complete(ctx context.Context, id uuid.UUID, caller auth.Identity) error {
	return l.change(ctx, nil, "id", id, func(s *state) error {
		if !caller.Owns(s.SellerID) && !caller.IsAdmin() {
			return ErrForbidden
		}
		if s.Status != Paid {
			return ErrClosed.WithMessage("only a paid reservation can be completed")
		}
		if err := s.move(ctx, Completed, &caller.UserID, "seller completed; trade opens"); err != nil {
			return err
		}
		return s.emit(ctx, events.ReservationCompleted, "")
	})
}

// CancelBySeller ends the reservation (the seller or an administrator) before the trade:
// every application is cancelled and reservation-cancelled tells the product.
func (l *Lifecycle) CancelBySeller(ctx context.Context, id uuid.UUID, caller auth.Identity, why string) error {
	why, err := reason(why)
	if err != nil {
		return err
	}
	err = l.change(ctx, nil, "id", id, func(s *state) error {
		if !caller.Owns(s.SellerID) && !caller.IsAdmin() {
			return ErrForbidden
		}
		return l.close(ctx, s, &caller.UserID, "seller cancelled: "+why)
	})
	return l.after(ctx, id, true, err)
}

// close ends a reservation that has not gone to a trade.
func (l *Lifecycle) close(ctx context.Context, s *state, by *uuid.UUID, why string) error {
	switch s.Status {
	case Available, Pending, Paid:
	default:
		return ErrClosed.WithMessage("the reservation has already gone to a trade or ended")
	}
	if _, err := s.tx.Exec(ctx, `
		UPDATE reservations.applications SET status = 'CANCELLED', modified_at = clock_timestamp()
		 WHERE reservation_id = $1 AND status IN ('WAITING', 'SELECTED')`, s.ID); err != nil {
		return fmt.Errorf("release queue: %w", err)
	}
	s.BuyerID, s.BuyerNickname, s.BuyerPosition, s.PaymentDeadline = nil, "", nil, nil
	if err := s.move(ctx, Cancelled, by, why); err != nil {
		return err
	}
	return s.emit(ctx, events.ReservationCancelled, why)
}

// ExpirePayment ends the buyer's turn (an administrator, or the sweep when the deadline
// passes): the next applicant is promoted.
func (l *Lifecycle) ExpirePayment(ctx context.Context, id uuid.UUID, caller *auth.Identity, why string) error {
	if caller != nil && !caller.IsAdmin() {
		return ErrForbidden
	}
	var by *uuid.UUID
	if caller != nil {
		var err error
		if why, err = reason(why); err != nil {
			return err
		}
		why = "expired by an administrator: " + why
		by = &caller.UserID
	}
	err := l.change(ctx, nil, "id", id, func(s *state) error {
		if s.Status != Pending {
			return ErrClosed.WithMessage("only a reservation awaiting payment can expire")
		}
		if err := s.dropBuyer(ctx, "CANCELLED"); err != nil {
			return err
		}
		err := l.promote(ctx, s, by, why)
		return err
	})
	return l.after(ctx, id, true, err)
}

// forgetOnCommit drops reservation id's admission state once the consumer's transaction
// has committed (inbox.OnCommit), so the next apply sees the change.
func (l *Lifecycle) forgetOnCommit(ctx context.Context, id uuid.UUID) {
	inbox.OnCommit(ctx, func(ctx context.Context) error { return l.queue.Forget(ctx, id) })
}

// ProductUpdated copies a product's new information and window, while nobody has applied
// (products allows changes only before the deal opens). It is the effect of
// reservations-product-updated, run in its inbox transaction (inbox.Handle).
func (l *Lifecycle) ProductUpdated(ctx context.Context, tx pgx.Tx, d events.ProductUpdatedData) error {
	err := l.change(ctx, tx, "product_id", d.ProductID, func(s *state) error {
		l.forgetOnCommit(ctx, s.ID)
		if s.Status != Available || s.BuyerID != nil {
			return nil
		}
		if d.Name != "" {
			s.ProductName = d.Name
		}
		if d.Price > 0 {
			s.ProductPrice = d.Price
		}
		if !d.StartTime.IsZero() && d.EndTime.After(d.StartTime) {
			s.StartTime, s.EndTime = d.StartTime, d.EndTime
		}
		s.changed = true
		return nil
	})
	if errors.Is(err, ErrNotFound) {
		// Arrived before product-created (another topic), whose values are the ones at
		// creation: refused, so it is delivered again and applied once the reservation exists.
		return ErrNotOpenedYet.WithMessage("the reservation of product %s is not opened yet; deliver again", d.ProductID)
	}
	return err
}

// ProductCancelled ends the reservation of a cancelled or deleted product and releases
// its queue: the effect of reservations-product-cancelled, in its inbox transaction.
func (l *Lifecycle) ProductCancelled(ctx context.Context, tx pgx.Tx, d events.ProductCancelledData) error {
	err := l.change(ctx, tx, "product_id", d.ProductID, func(s *state) error {
		l.forgetOnCommit(ctx, s.ID)
		switch s.Status {
		case Cancelled:
			return nil
		case Completed, Closed:
			// The cancellation lost the race to the trade (the seller completed the
			// reservation before products saw it): the trade goes on, and the event is
			// acknowledged rather than retried into the dead-letter topic.
			slog.WarnContext(ctx, "product-cancelled after the reservation went to a trade; ignored",
				"reservationId", s.ID, "productId", s.ProductID, "status", s.Status)
			return nil
		}
		return l.close(ctx, s, nil, "the product was cancelled")
	})
	if errors.Is(err, ErrNotFound) {
		// product-created and product-cancelled travel on different topics, so the
		// cancellation can arrive first: acknowledging it would leave the reservation
		// product-created opens later open for a product that is gone. Refused, it is
		// delivered again once the reservation exists (the relay's reconciliation
		// republishes a product-created that was lost).
		return ErrNotOpenedYet.WithMessage("the reservation of product %s is not opened yet; deliver again", d.ProductID)
	}
	return err
}

// ErrNotOpenedYet refuses an event about a product whose reservation product-created has
// not opened yet: a 503, so the backbone delivers it again.
var ErrNotOpenedYet = fault.New(fault.Unavailable, "R015", "the reservation is not opened yet")

// TradeCompleted closes the reservation of a completed trade: the effect of
// reservations-trade-completed, in its inbox transaction.
func (l *Lifecycle) TradeCompleted(ctx context.Context, tx pgx.Tx, d events.TradeData) error {
	l.forgetOnCommit(ctx, d.ReservationID)
	return l.change(ctx, tx, "id", d.ReservationID, func(s *state) error {
		if s.Status != Completed {
			return nil // already closed, or not this reservation's trade any more
		}
		return s.move(ctx, Closed, nil, "trade completed")
	})
}

// TradeCancelled takes the reservation back from a cancelled trade (the effect of
// reservations-trade-cancelled, in its inbox transaction): the next applicant is
// promoted, or the deal reopens or ends.
func (l *Lifecycle) TradeCancelled(ctx context.Context, tx pgx.Tx, d events.TradeData) error {
	return l.takeBack(ctx, tx, d.ReservationID, "trade cancelled: "+d.Reason)
}

// TradeFailed takes the reservation back when its trade could not be opened, as a
// cancelled trade would: the effect of reservations-reservation-tradefail.
func (l *Lifecycle) TradeFailed(ctx context.Context, tx pgx.Tx, d events.ReservationTradeFailData) error {
	return l.takeBack(ctx, tx, d.ReservationID, "trade could not be opened: "+d.Reason)
}

// takeBack promotes the next applicant of a reservation whose trade did not happen.
func (l *Lifecycle) takeBack(ctx context.Context, tx pgx.Tx, reservationID uuid.UUID, why string) error {
	l.forgetOnCommit(ctx, reservationID)
	return l.change(ctx, tx, "id", reservationID, func(s *state) error {
		if s.Status != Completed {
			return nil
		}
		if err := s.dropBuyer(ctx, "CANCELLED"); err != nil {
			return err
		}
		err := l.promote(ctx, s, nil, why)
		return err
	})
}

// SweepResult counts what a sweep did.
type SweepResult struct {
	Expired  int `json:"paymentsExpired"`
	Ended    int `json:"dealsEnded"`
	Promoted int `json:"repaired"`
	// Reconciled counts open deals whose admission state disagreed with Postgres.
	Reconciled int `json:"reconciled"`
}

// Sweep applies the clock: buyers whose payment deadline passed lose their turn, deals
// whose window closed with nobody holding them end, and an open reservation with people
// waiting but no buyer (a place lost between Redis and Postgres) gets one. Each
// reservation is changed in its own transaction; rows another sweep holds are skipped,
// and every change re-checks its rule under the row lock, so running it twice or
// concurrently changes nothing more. Last, the admission state of the most recently
// opened deals is reconciled with Postgres, so admissions that died before their row
// stop counting in the places later applicants are told.
func (l *Lifecycle) Sweep(ctx context.Context, batch int) (SweepResult, error) {
	var res SweepResult
	jobs := []struct {
		query string
		do    func(ctx context.Context, id uuid.UUID) (bool, error)
		count *int
	}{
		{`SELECT id FROM reservations.reservations WHERE status = 'PENDING' AND payment_deadline <= clock_timestamp()
		   ORDER BY payment_deadline LIMIT $1`, l.expireIfDue, &res.Expired},
		{`SELECT id FROM reservations.reservations WHERE status = 'AVAILABLE' AND end_time <= clock_timestamp()
		   ORDER BY end_time LIMIT $1`, l.endIfDue, &res.Ended},
		{`SELECT r.id FROM reservations.reservations r WHERE r.status = 'AVAILABLE' AND r.buyer_id IS NULL
		     AND EXISTS (SELECT 1 FROM reservations.applications a WHERE a.reservation_id = r.id AND a.status = 'WAITING')
		     AND NOT EXISTS (SELECT 1 FROM reservations.applications a WHERE a.reservation_id = r.id
		                      AND a.status = 'WAITING' AND a.created_at > clock_timestamp() - interval '5 seconds')
		   LIMIT $1`, l.repair, &res.Promoted},
	}
	for _, j := range jobs {
		rows, err := l.db.Query(ctx, j.query, batch)
		if err != nil {
			return res, fmt.Errorf("sweep: %w", err)
		}
		ids, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
		if err != nil {
			return res, fmt.Errorf("sweep: %w", err)
		}
		for _, id := range ids {
			done, err := j.do(ctx, id)
			if err != nil {
				return res, fmt.Errorf("sweep %s: %w", id, err)
			}
			if done {
				*j.count++
				if ferr := l.queue.Forget(ctx, id); ferr != nil {
					return res, ferr
				}
			}
		}
	}
	rows, err := l.db.Query(ctx, `
		SELECT id FROM reservations.reservations
		 WHERE status IN ('AVAILABLE', 'PENDING', 'PAID') AND start_time <= clock_timestamp() AND end_time > clock_timestamp()
		 ORDER BY start_time DESC LIMIT $1`, batch)
	if err != nil {
		return res, fmt.Errorf("sweep: %w", err)
	}
	open, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	if err != nil {
		return res, fmt.Errorf("sweep: %w", err)
	}
	for _, id := range open {
		fixed, err := l.queue.Reconcile(ctx, id)
		if err != nil && !errors.Is(err, ErrNotFound) {
			return res, fmt.Errorf("sweep %s: %w", id, err)
		}
		if fixed {
			res.Reconciled++
		}
	}
	if res.Expired+res.Ended+res.Promoted+res.Reconciled > 0 {
		slog.InfoContext(ctx, "reservations swept", "paymentsExpired", res.Expired, "dealsEnded", res.Ended,
			"repaired", res.Promoted, "reconciled", res.Reconciled)
	}
	return res, nil
}

// expireIfDue ends the buyer's turn once the payment deadline has passed.
func (l *Lifecycle) expireIfDue(ctx context.Context, id uuid.UUID) (bool, error) {
	done := false
	err := l.change(ctx, nil, "id", id, func(s *state) error {
		if s.Status != Pending || s.PaymentDeadline == nil || time.Now().Before(*s.PaymentDeadline) {
			return nil
		}
		if err := s.dropBuyer(ctx, "CANCELLED"); err != nil {
			return err
		}
		done = true
		return l.promote(ctx, s, nil, "payment deadline passed")
	})
	return done, err
}

// endIfDue ends an open deal whose window has closed: an applicant from inside the window
// still gets it, otherwise it is over.
func (l *Lifecycle) endIfDue(ctx context.Context, id uuid.UUID) (bool, error) {
	done := false
	err := l.change(ctx, nil, "id", id, func(s *state) error {
		if s.Status != Available || time.Now().Before(s.EndTime) {
			return nil
		}
		var waiting bool
		if err := s.tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM reservations.applications
			WHERE reservation_id = $1 AND status = 'WAITING')`, s.ID).Scan(&waiting); err != nil {
			return err
		}
		done = true
		if waiting {
			return l.promote(ctx, s, nil, "deal ended with applicants waiting")
		}
		return l.close(ctx, s, nil, "the deal ended with no buyer")
	})
	return done, err
}

// repair gives an open reservation with people waiting but no buyer its buyer.
func (l *Lifecycle) repair(ctx context.Context, id uuid.UUID) (bool, error) {
	done := false
	err := l.change(ctx, nil, "id", id, func(s *state) error {
		if s.Status != Available || s.BuyerID != nil {
			return nil
		}
		done = true
		return l.promote(ctx, s, nil, "queue without a buyer repaired")
	})
	return done, err
}

// CatchUp applies the clock to one reservation before it is read or changed: a passed
// payment deadline or a closed window takes effect on the request that notices it, not
// only at the next sweep.
func (l *Lifecycle) CatchUp(ctx context.Context, id uuid.UUID) error {
	var due bool
	err := l.db.QueryRow(ctx, `
		SELECT (status = 'PENDING' AND payment_deadline <= clock_timestamp())
		    OR (status = 'AVAILABLE' AND end_time <= clock_timestamp())
		  FROM reservations.reservations WHERE id = $1`, id).Scan(&due)
	if errors.Is(err, pgx.ErrNoRows) || (err == nil && !due) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("catch up %s: %w", id, err)
	}
	expired, err := l.expireIfDue(ctx, id)
	if err != nil {
		return err
	}
	ended, err := l.endIfDue(ctx, id)
	if err != nil {
		return err
	}
	return l.after(ctx, id, expired || ended, nil)
}
