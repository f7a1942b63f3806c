package reservations

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"

	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/events"
	"github.com/8949market/market/shared/fault"
	"github.com/8949market/market/shared/inbox"
)

// Lifecycle runs the reservation's transitions after the apply: payment, cancellations,
// completion, promotion of the next applicant, and what other domains' events do to it.
// Each is one Store update over the pure rules of Reservation (rules.go): every
// transition writes a history row, and every terminal or compensating one an event, in
// the transaction of the change.
type Lifecycle struct {
	db            *pgxpool.Pool
	store         *Store
	queue         *Queue
	paymentWindow time.Duration
}

// NewLifecycle returns the lifecycle on db; the admission state in rdb is dropped whenever
// a change reopens the buyer's place or closes the reservation. paymentWindow is how long
// a promoted buyer has to pay (DefaultPaymentWindow when 0).
func NewLifecycle(db *pgxpool.Pool, rdb *redis.Client, paymentWindow time.Duration) *Lifecycle {
	queue := NewQueue(db, rdb, paymentWindow)
	return &Lifecycle{db: db, store: NewStore(db), queue: queue, paymentWindow: queue.paymentWindow}
}

// clock is the moment of a change, read under the row lock.
func (l *Lifecycle) clock() Clock { return Clock{Now: time.Now(), PaymentWindow: l.paymentWindow} }

// after runs what must follow a committed change of the queue outside the database: the
// reservation's admission state (buyer's place, queue length) is rebuilt from Postgres on
// the next apply.
func (l *Lifecycle) after(ctx context.Context, id uuid.UUID, err error) error {
	if err != nil {
		return err
	}
	if ferr := l.queue.Forget(context.WithoutCancel(ctx), id); ferr != nil {
		return fault.ErrUnavailable.WithMessage("saved, but the queue could not be reset; it is repaired by the next sweep").Wrap(ferr)
	}
	return nil
}

// CancelByBuyer withdraws the buyer (the buyer or an administrator) before the trade; the
// next applicant is promoted.
func (l *Lifecycle) CancelByBuyer(ctx context.Context, id uuid.UUID, caller auth.Identity, why string) error {
	why, err := reason(why)
	if err != nil {
		return err
	}
	_, err = l.store.Update(ctx, id, func(r *Reservation) error { return r.CancelByBuyer(caller, why, l.clock()) })
	return l.after(ctx, id, err)
}

// Leave takes the caller's waiting application out of the queue.
func (l *Lifecycle) Leave(ctx context.Context, id uuid.UUID, caller auth.Identity) error {
	_, err := l.store.UpdateAs(ctx, id, caller.UserID, func(r *Reservation) error { return r.Leave() })
	// The queue is shorter: places given from now on are counted afresh.
	return l.after(ctx, id, err)
}

// ConfirmPayment records the buyer's payment (administrators; there is no payment
// service yet, so an operator or a payment system's service account confirms).
func (l *Lifecycle) ConfirmPayment(ctx context.Context, id uuid.UUID, caller auth.Identity) error {
	if !caller.IsAdmin() {
		return ErrForbidden
	}
	_, err := l.store.Update(ctx, id, func(r *Reservation) error { return r.ConfirmPayment(caller, time.Now()) })
	return err
}

// Complete hands a paid reservation to its trade (the seller or an administrator):
// reservation-completed carries both parties for the trade.
func (l *Lifecycle) Complete(ctx context.Context, id uuid.UUID, caller auth.Identity) error {
	_, err := l.store.Update(ctx, id, func(r *Reservation) error { return r.Complete(caller) })
	return err
}

// CancelBySeller ends the reservation (the seller or an administrator) before the trade:
// every application is cancelled and reservation-cancelled tells the product.
func (l *Lifecycle) CancelBySeller(ctx context.Context, id uuid.UUID, caller auth.Identity, why string) error {
	why, err := reason(why)
	if err != nil {
		return err
	}
	_, err = l.store.Update(ctx, id, func(r *Reservation) error { return r.CancelBySeller(caller, why) })
	return l.after(ctx, id, err)
}

// ExpirePayment ends the buyer's turn (an administrator, or the clock when caller is nil):
// the next applicant is promoted.
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
	_, err := l.store.Update(ctx, id, func(r *Reservation) error { return r.ExpirePayment(by, why, l.clock()) })
	return l.after(ctx, id, err)
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
	_, err := l.store.updateTx(ctx, tx, byProduct(d.ProductID), func(r *Reservation) error {
		l.forgetOnCommit(ctx, r.ID)
		r.ProductUpdated(d)
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
	_, err := l.store.updateTx(ctx, tx, byProduct(d.ProductID), func(r *Reservation) error {
		l.forgetOnCommit(ctx, r.ID)
		lost, err := r.ProductCancelled()
		if lost {
			// The trade goes on, and the event is acknowledged rather than retried into
			// the dead-letter topic.
			slog.WarnContext(ctx, "product-cancelled after the reservation went to a trade; ignored",
				"reservationId", r.ID, "productId", r.ProductID, "status", r.Status)
		}
		return err
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
	_, err := l.store.updateTx(ctx, tx, byID(d.ReservationID), func(r *Reservation) error {
		r.TradeCompleted()
		return nil
	})
	return err
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
	_, err := l.store.updateTx(ctx, tx, byID(reservationID), func(r *Reservation) error {
		r.TakeBack(why, l.clock())
		return nil
	})
	return err
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

// due runs one of the clock's rules on reservation id and reports whether it applied.
func (l *Lifecycle) due(ctx context.Context, id uuid.UUID, rule func(r *Reservation, c Clock) bool) (bool, error) {
	done := false
	_, err := l.store.Update(ctx, id, func(r *Reservation) error {
		done = rule(r, l.clock())
		return nil
	})
	return done, err
}

// expireIfDue ends the buyer's turn once the payment deadline has passed.
func (l *Lifecycle) expireIfDue(ctx context.Context, id uuid.UUID) (bool, error) {
	return l.due(ctx, id, (*Reservation).ExpireIfDue)
}

// endIfDue ends an open deal whose window has closed.
func (l *Lifecycle) endIfDue(ctx context.Context, id uuid.UUID) (bool, error) {
	return l.due(ctx, id, (*Reservation).EndIfDue)
}

// repair gives an open reservation with people waiting but no buyer its buyer.
func (l *Lifecycle) repair(ctx context.Context, id uuid.UUID) (bool, error) {
	return l.due(ctx, id, (*Reservation).Repair)
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
	if !expired && !ended {
		return nil
	}
	return l.after(ctx, id, nil)
}
