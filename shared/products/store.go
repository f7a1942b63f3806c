package products

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

// Get returns the product with id; a deleted product is not found.
func (s *Store) Get(ctx context.Context, id uuid.UUID) (Product, error) {
	var p Product
	err := s.db.QueryRow(ctx, `
		SELECT id, seller_id, seller_nickname, name, description, price, status,
		       start_time, end_time, created_at, modified_at
		  FROM products.products
		 WHERE id = $1 AND deleted_at IS NULL`, id).
		Scan(&p.ID, &p.SellerID, &p.SellerNickname, &p.Name, &p.Description, &p.Price, &p.Status,
			&p.StartTime, &p.EndTime, &p.CreatedAt, &p.ModifiedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return Product{}, ErrNotFound
	}
	if err != nil {
		return Product{}, fmt.Errorf("get product %s: %w", id, err)
	}
	return p, nil
}
