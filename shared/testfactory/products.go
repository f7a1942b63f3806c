package testfactory

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/8949market/market/shared/postgres"
	"github.com/8949market/market/shared/products"
)

// ProductOpts overrides the defaults of Product; zero fields keep them.
type ProductOpts struct {
	ID             uuid.UUID       // default: a new one
	SellerID       uuid.UUID       // default: a new one (no users row: products keep only the id)
	SellerNickname string          // default: seller
	Name           string          // default: Film camera
	Description    string          // default: Works, with strap
	Price          int64           // default: 120000
	Status         products.Status // default: PENDING_RESERVATION, as listed
	// StartTime defaults to an hour from now, or to an hour before EndTime when only that
	// is given; EndTime to an hour after StartTime. The table wants a window of at least
	// products.MinWindow.
	StartTime, EndTime time.Time
	CreatedAt          time.Time // default: now; also the modification time
	// BuyerID and ReservationVersion are the reservation's buyer and the newest
	// reservation event applied, as the consumers record them.
	BuyerID            *uuid.UUID
	ReservationVersion int64
	FailureReason      string
	FailedAt           *time.Time
	// Deleted removes the listing, by its seller, at CreatedAt.
	Deleted bool
}

// Product stores a product row as the products store would have left it, in any state and
// window (also ones only the clock or the consumers produce), without the product-created
// event, and returns it with its times at the database's precision.
func Product(ctx context.Context, tb testing.TB, db DB, opts *ProductOpts) products.Product {
	tb.Helper()
	if opts == nil {
		opts = &ProductOpts{}
	}
	now := postgres.Time(time.Now())
	p := products.Product{
		ID: opts.ID, SellerID: opts.SellerID, SellerNickname: opts.SellerNickname,
		Name: opts.Name, Description: opts.Description, Price: opts.Price, Status: opts.Status,
		StartTime: postgres.Time(opts.StartTime), EndTime: postgres.Time(opts.EndTime), CreatedAt: postgres.Time(opts.CreatedAt),
		BuyerID: opts.BuyerID, ReservationVersion: opts.ReservationVersion, FailureReason: opts.FailureReason, FailedAt: opts.FailedAt,
	}
	if p.ID == uuid.Nil {
		p.ID = uuid.New()
	}
	if p.SellerID == uuid.Nil {
		p.SellerID = uuid.New()
	}
	if p.SellerNickname == "" {
		p.SellerNickname = "seller"
	}
	if p.Name == "" {
		p.Name = "Film camera"
	}
	if opts.Description == "" {
		p.Description = "Works, with strap"
	}
	if p.Price == 0 {
		p.Price = 120000
	}
	if p.Status == "" {
		p.Status = products.PendingReservation
	}
	if p.CreatedAt.IsZero() {
		p.CreatedAt = now
	}
	switch {
	case p.StartTime.IsZero() && p.EndTime.IsZero():
		p.StartTime = now.Add(time.Hour)
		p.EndTime = p.StartTime.Add(time.Hour)
	case p.StartTime.IsZero():
		p.StartTime = p.EndTime.Add(-time.Hour)
	case p.EndTime.IsZero():
		p.EndTime = p.StartTime.Add(time.Hour)
	}
	p.ModifiedAt, p.ModifiedBy = p.CreatedAt, p.SellerID
	if opts.Deleted {
		at, by := p.CreatedAt, p.SellerID
		p.DeletedAt, p.DeletedBy = &at, &by
	}
	_, err := db.Exec(ctx, `
		INSERT INTO products.products
		  (id, seller_id, seller_nickname, name, description, price, status, start_time, end_time,
		   created_at, created_by, modified_at, modified_by, deleted_at, deleted_by,
		   buyer_id, reservation_version, failure_reason, failed_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $2, $11, $12, $13, $14, $15, $16, nullif($17, ''), $18)`,
		p.ID, p.SellerID, p.SellerNickname, p.Name, p.Description, p.Price, string(p.Status), p.StartTime, p.EndTime,
		p.CreatedAt, p.ModifiedAt, p.ModifiedBy, p.DeletedAt, p.DeletedBy,
		p.BuyerID, p.ReservationVersion, p.FailureReason, p.FailedAt)
	if err != nil {
		tb.Fatalf("testfactory: product: %v", err)
	}
	return p
}
