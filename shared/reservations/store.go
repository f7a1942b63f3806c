package reservations

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/8949market/market/shared/events"
	"github.com/8949market/market/shared/outbox"
)

// Store keeps reservations in the reservations schema. A change is an update closure over
// the pure model (Update): the store locks the row, runs the rule, and writes the row, its
// applications, history and the events the rule collected in one transaction.
type Store struct {
	db *pgxpool.Pool
}

// NewStore returns a store on db.
func NewStore(db *pgxpool.Pool) *Store { return &Store{db: db} }

// key finds a reservation by one of its unique columns.
type key struct {
	column string
	value  uuid.UUID
}

func byID(id uuid.UUID) key             { return key{"id", id} }
func byProduct(productID uuid.UUID) key { return key{"product_id", productID} }

const columns = `id, product_id, seller_id, seller_nickname, product_name, product_price, start_time, end_time,
	status, buyer_id, coalesce(buyer_nickname, ''), buyer_position, payment_deadline, version, created_at, modified_at`

func scan(row pgx.Row) (Reservation, error) {
	var r Reservation
	err := row.Scan(&r.ID, &r.ProductID, &r.SellerID, &r.SellerNickname, &r.ProductName, &r.ProductPrice,
		&r.StartTime, &r.EndTime, &r.Status, &r.BuyerID, &r.BuyerNickname, &r.BuyerPosition, &r.PaymentDeadline,
		&r.Version, &r.CreatedAt, &r.ModifiedAt)
	return r, err
}

// read returns the reservation k names, as committed, without a lock.
func read(ctx context.Context, db queryRower, k key) (Reservation, error) {
	r, err := scan(db.QueryRow(ctx, `SELECT `+columns+` FROM reservations.reservations WHERE `+k.column+` = $1`, k.value))
	if errors.Is(err, pgx.ErrNoRows) {
		return Reservation{}, ErrNotFound
	}
	if err != nil {
		return Reservation{}, fmt.Errorf("read reservation: %w", err)
	}
	return r, nil
}

// Update runs change on reservation id under its row lock and writes what it changed in
// one transaction; if change fails, nothing is written. It returns the reservation as
// change left it.
func (s *Store) Update(ctx context.Context, id uuid.UUID, change func(r *Reservation) error) (Reservation, error) {
	return s.update(ctx, nil, byID(id), uuid.Nil, change)
}

// UpdateAs is Update with the caller's own application read too (Reservation.Leave).
func (s *Store) UpdateAs(ctx context.Context, id, caller uuid.UUID, change func(r *Reservation) error) (Reservation, error) {
	return s.update(ctx, nil, byID(id), caller, change)
}

// updateTx is Update inside tx, for event consumers (their inbox transaction); the
// reservation is found by k. If tx is rolled back, so is the change.
func (s *Store) updateTx(ctx context.Context, tx pgx.Tx, k key, change func(r *Reservation) error) (Reservation, error) {
	return s.update(ctx, tx, k, uuid.Nil, change)
}

func (s *Store) update(ctx context.Context, tx pgx.Tx, k key, caller uuid.UUID, change func(r *Reservation) error) (Reservation, error) {
	var out Reservation
	run := func(tx pgx.Tx) error {
		r, err := lock(ctx, tx, k, caller)
		if err != nil {
			return err
		}
		if err := change(&r); err != nil {
			return err
		}
		if err := write(ctx, tx, &r); err != nil {
			return err
		}
		out = r
		return nil
	}
	var err error
	if tx != nil {
		err = run(tx)
	} else {
		err = pgx.BeginFunc(ctx, s.db, run)
	}
	if err != nil {
		return Reservation{}, err
	}
	return out, nil
}

// lock reads the reservation k names under its row lock, with the first applicant
// waiting and, for caller, the caller's application. The queue is read by statements of
// its own, after the lock: a statement that waited for the lock sees the row as the
// holder left it, but would see the applications as they were before it waited.
func lock(ctx context.Context, tx pgx.Tx, k key, caller uuid.UUID) (Reservation, error) {
	r, err := scan(tx.QueryRow(ctx, `SELECT `+columns+` FROM reservations.reservations WHERE `+k.column+` = $1 FOR UPDATE`, k.value))
	if errors.Is(err, pgx.ErrNoRows) {
		return Reservation{}, ErrNotFound
	}
	if err != nil {
		return Reservation{}, fmt.Errorf("lock reservation: %w", err)
	}
	if r.next, err = application(ctx, tx, `
		SELECT position, user_id, nickname, status FROM reservations.applications
		 WHERE reservation_id = $1 AND status = 'WAITING' ORDER BY position LIMIT 1`, r.ID); err != nil {
		return Reservation{}, err
	}
	if caller != uuid.Nil {
		if r.mine, err = application(ctx, tx, `
			SELECT position, user_id, nickname, status FROM reservations.applications
			 WHERE reservation_id = $1 AND user_id = $2`, r.ID, caller); err != nil {
			return Reservation{}, err
		}
	}
	return r, nil
}

// application reads one application, nil when there is none.
func application(ctx context.Context, tx pgx.Tx, sql string, args ...any) (*Waiting, error) {
	var w Waiting
	err := tx.QueryRow(ctx, sql, args...).Scan(&w.Position, &w.UserID, &w.Nickname, &w.Status)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read application: %w", err)
	}
	return &w, nil
}

// write stores what the rules changed: the applications, the row, the history and the
// events, in that order.
func write(ctx context.Context, tx pgx.Tx, r *Reservation) error {
	if !r.pending() {
		return nil
	}
	for _, a := range r.applications {
		var err error
		if a.all {
			_, err = tx.Exec(ctx, `
				UPDATE reservations.applications SET status = $2, modified_at = clock_timestamp()
				 WHERE reservation_id = $1 AND status IN ('WAITING', 'SELECTED')`, r.ID, a.status)
		} else {
			_, err = tx.Exec(ctx, `
				UPDATE reservations.applications SET status = $3, modified_at = clock_timestamp()
				 WHERE reservation_id = $1 AND position = $2`, r.ID, a.position, a.status)
		}
		if err != nil {
			return fmt.Errorf("write applications of %s: %w", r.ID, err)
		}
	}
	if r.dirty {
		_, err := tx.Exec(ctx, `
			UPDATE reservations.reservations
			   SET status = $2, buyer_id = $3, buyer_nickname = nullif($4, ''), buyer_position = $5,
			       payment_deadline = $6, version = $7, modified_at = clock_timestamp(),
			       product_name = $8, product_price = $9, start_time = $10, end_time = $11
			 WHERE id = $1`,
			r.ID, r.Status, r.BuyerID, r.BuyerNickname, r.BuyerPosition, r.PaymentDeadline, r.Version,
			r.ProductName, r.ProductPrice, r.StartTime, r.EndTime)
		if err != nil {
			return fmt.Errorf("write reservation %s: %w", r.ID, err)
		}
	}
	for _, h := range r.history {
		if _, err := tx.Exec(ctx, `
			INSERT INTO reservations.history (id, reservation_id, previous_status, new_status, comment, changed_by)
			VALUES ($1, $2, $3, $4, $5, $6)`, uuid.New(), r.ID, h.from, h.to, h.comment, h.by); err != nil {
			return fmt.Errorf("write history of %s: %w", r.ID, err)
		}
	}
	for i, data := range r.events {
		if err := outbox.Write(ctx, tx, outbox.Event{
			Topic: r.topics[i], Source: events.SourceReservations, AggregateID: r.ID.String(), Data: data,
		}); err != nil {
			return err
		}
	}
	r.changes = changes{}
	return nil
}
