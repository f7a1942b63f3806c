package products

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/8949market/market/shared/events"
	"github.com/8949market/market/shared/outbox"
)

// Store keeps products in the products schema.
type Store struct {
	db *pgxpool.Pool
}

// NewStore returns a store on db.
func NewStore(db *pgxpool.Pool) *Store { return &Store{db: db} }

// Create inserts p and, in the same transaction, the product-created event that opens its
// reservation.
func (s *Store) Create(ctx context.Context, p Product) error {
	return pgx.BeginFunc(ctx, s.db, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `
			INSERT INTO products.products
			  (id, seller_id, seller_nickname, name, description, price, status,
			   start_time, end_time, created_at, created_by, modified_at, modified_by)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $2, $10, $2)`,
			p.ID, p.SellerID, p.SellerNickname, p.Name, p.Description, p.Price, p.Status,
			p.StartTime, p.EndTime, p.CreatedAt)
		if err != nil {
			return fmt.Errorf("insert product: %w", err)
		}
		return outbox.Write(ctx, tx, outbox.Event{
			Topic:       events.ProductCreated,
			Source:      events.SourceProducts,
			AggregateID: p.ID.String(),
			Data: events.ProductCreatedData{
				ProductID:      p.ID,
				Name:           p.Name,
				Price:          p.Price,
				SellerID:       p.SellerID,
				SellerNickname: p.SellerNickname,
				StartTime:      p.StartTime,
				EndTime:        p.EndTime,
			},
		})
	})
}

const productColumns = `id, seller_id, seller_nickname, name, description, price, status,
	start_time, end_time, created_at, modified_at, modified_by, deleted_at, deleted_by,
	buyer_id, reservation_version, coalesce(failure_reason, ''), failed_at`

func scanProduct(row pgx.Row) (Product, error) {
	var p Product
	err := row.Scan(&p.ID, &p.SellerID, &p.SellerNickname, &p.Name, &p.Description, &p.Price, &p.Status,
		&p.StartTime, &p.EndTime, &p.CreatedAt, &p.ModifiedAt, &p.ModifiedBy, &p.DeletedAt, &p.DeletedBy,
		&p.BuyerID, &p.ReservationVersion, &p.FailureReason, &p.FailedAt)
	return p, err
}

// Get returns the product with id; a deleted product is not found.
func (s *Store) Get(ctx context.Context, id uuid.UUID) (Product, error) {
	p, err := scanProduct(s.db.QueryRow(ctx, `
		SELECT `+productColumns+` FROM products.products WHERE id = $1 AND deleted_at IS NULL`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return Product{}, ErrNotFound
	}
	if err != nil {
		return Product{}, fmt.Errorf("get product %s: %w", id, err)
	}
	return p, nil
}

// Update runs change on the live product id under a row lock and writes the product and
// the events the change announces in one transaction; if change fails, nothing is
// written.
func (s *Store) Update(ctx context.Context, id uuid.UUID, change func(p *Product) error) (Product, error) {
	var out Product
	err := pgx.BeginFunc(ctx, s.db, func(tx pgx.Tx) error {
		p, err := UpdateTx(ctx, tx, id, func(p *Product) (bool, error) { return true, change(p) })
		out = p
		return err
	})
	if err != nil {
		return Product{}, err
	}
	return out, nil
}

// UpdateTx is Update inside the caller's transaction (event consumers run in their inbox
// transaction). change reports whether it changed anything; if not, nothing is written.
// A product that does not exist or is deleted is ErrNotFound.
func UpdateTx(ctx context.Context, tx pgx.Tx, id uuid.UUID, change func(p *Product) (bool, error)) (Product, error) {
	p, err := scanProduct(tx.QueryRow(ctx, `
		SELECT `+productColumns+` FROM products.products WHERE id = $1 AND deleted_at IS NULL FOR UPDATE`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return Product{}, ErrNotFound
	}
	if err != nil {
		return Product{}, fmt.Errorf("lock product %s: %w", id, err)
	}
	changed, err := change(&p)
	if err != nil || !changed {
		return p, err
	}
	if err := write(ctx, tx, &p); err != nil {
		return Product{}, err
	}
	return p, nil
}

func write(ctx context.Context, tx pgx.Tx, p *Product) error {
	_, err := tx.Exec(ctx, `
		UPDATE products.products
		   SET name = $2, description = $3, price = $4, status = $5, start_time = $6, end_time = $7,
		       modified_at = $8, modified_by = $9, deleted_at = $10, deleted_by = $11,
		       buyer_id = $12, reservation_version = $13, failure_reason = nullif($14, ''), failed_at = $15
		 WHERE id = $1`,
		p.ID, p.Name, p.Description, p.Price, p.Status, p.StartTime, p.EndTime,
		p.ModifiedAt, p.ModifiedBy, p.DeletedAt, p.DeletedBy,
		p.BuyerID, p.ReservationVersion, p.FailureReason, p.FailedAt)
	if err != nil {
		return fmt.Errorf("write product %s: %w", p.ID, err)
	}
	for _, e := range p.pending {
		if err := outbox.Write(ctx, tx, outbox.Event{
			Topic: e.topic, Source: events.SourceProducts, AggregateID: p.ID.String(), Data: e.data,
		}); err != nil {
			return err
		}
	}
	p.pending = nil
	return nil
}

// TickResult counts what a tick moved.
type TickResult struct {
	Opened  int `json:"opened"`
	Expired int `json:"expired"`
}

// Tick moves the status columns the clock has overtaken: deals whose window opened to
// RESERVING, deals whose window closed with no buyer to EXPIRED, each with its
// product-updated event, batch at a time until none is left. Reads never depend on it
// (EffectiveStatus); it only tidies. Running it twice, late or concurrently moves each
// product once: rows are claimed with SKIP LOCKED and the move re-checks the row.
func (s *Store) Tick(ctx context.Context, now time.Time, batch int) (TickResult, error) {
	var res TickResult
	sweeps := []struct {
		query string
		move  func(p *Product) bool
		count *int
	}{
		{`SELECT id FROM products.products
		   WHERE status = 'PENDING_RESERVATION' AND deleted_at IS NULL AND start_time <= $1
		   ORDER BY start_time LIMIT $2 FOR UPDATE SKIP LOCKED`,
			func(p *Product) bool { return p.Open(now) }, &res.Opened},
		{`SELECT id FROM products.products
		   WHERE status IN ('PENDING_RESERVATION', 'RESERVING') AND buyer_id IS NULL AND deleted_at IS NULL
		     AND end_time <= $1
		   ORDER BY end_time LIMIT $2 FOR UPDATE SKIP LOCKED`,
			func(p *Product) bool { return p.Expire(now) }, &res.Expired},
	}
	for _, sw := range sweeps {
		for {
			n, err := s.sweep(ctx, sw.query, now, batch, sw.move)
			if err != nil {
				return res, err
			}
			*sw.count += n
			if n < batch {
				break
			}
		}
	}
	if res.Opened+res.Expired > 0 {
		slog.InfoContext(ctx, "products ticked", "opened", res.Opened, "expired", res.Expired)
	}
	return res, nil
}

func (s *Store) sweep(ctx context.Context, query string, now time.Time, batch int, move func(p *Product) bool) (int, error) {
	moved := 0
	err := pgx.BeginFunc(ctx, s.db, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, query, now, batch)
		if err != nil {
			return fmt.Errorf("tick: claim: %w", err)
		}
		ids, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
		if err != nil {
			return fmt.Errorf("tick: claim: %w", err)
		}
		for _, id := range ids {
			_, err := UpdateTx(ctx, tx, id, func(p *Product) (bool, error) {
				ok := move(p)
				if ok {
					moved++
				}
				return ok, nil
			})
			if err != nil {
				return fmt.Errorf("tick: %w", err)
			}
		}
		return nil
	})
	return moved, err
}
