package testfactory

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/8949market/market/shared/reservations"
)

// ReservationOpts overrides a reservation's defaults: a fresh product and seller
// ("seller"), "Camera" at 1000, open from a second ago for an hour by the database clock,
// AVAILABLE with nobody applied.
type ReservationOpts struct {
	ID             uuid.UUID
	ProductID      uuid.UUID
	SellerID       uuid.UUID
	SellerNickname string
	ProductName    string
	Price          int64
	// StartsIn and EndsIn place the window relative to the database clock (negative: in
	// the past); both zero means the default window.
	StartsIn, EndsIn time.Duration
	Status           reservations.Status
}

// Reservation inserts a reservation as product-created opens one (migrations 00004 and
// 00007), with the options' overrides, and returns it as stored.
func Reservation(ctx context.Context, tb testing.TB, db DB, opts *ReservationOpts) reservations.Reservation {
	tb.Helper()
	o := ReservationOpts{}
	if opts != nil {
		o = *opts
	}
	if o.ID == uuid.Nil {
		o.ID = uuid.New()
	}
	if o.ProductID == uuid.Nil {
		o.ProductID = uuid.New()
	}
	if o.SellerID == uuid.Nil {
		o.SellerID = uuid.New()
	}
	if o.SellerNickname == "" {
		o.SellerNickname = "seller"
	}
	if o.ProductName == "" {
		o.ProductName = "Camera"
	}
	if o.Price == 0 {
		o.Price = 1000
	}
	if o.StartsIn == 0 && o.EndsIn == 0 {
		o.StartsIn, o.EndsIn = -time.Second, time.Hour
	}
	if o.Status == "" {
		o.Status = reservations.Available
	}
	r := reservations.Reservation{ID: o.ID, ProductID: o.ProductID, SellerID: o.SellerID, SellerNickname: o.SellerNickname,
		ProductName: o.ProductName, ProductPrice: o.Price, Status: o.Status}
	err := db.QueryRow(ctx, `
		INSERT INTO reservations.reservations
		  (id, product_id, seller_id, seller_nickname, product_name, product_price, start_time, end_time, status)
		VALUES ($1, $2, $3, $4, $5, $6, clock_timestamp() + make_interval(secs => $7),
		        clock_timestamp() + make_interval(secs => $8), $9)
		RETURNING start_time, end_time, created_at, modified_at`,
		o.ID, o.ProductID, o.SellerID, o.SellerNickname, o.ProductName, o.Price, o.StartsIn.Seconds(), o.EndsIn.Seconds(), o.Status).
		Scan(&r.StartTime, &r.EndTime, &r.CreatedAt, &r.ModifiedAt)
	if err != nil {
		tb.Fatalf("testfactory: reservation: %v", err)
	}
	return r
}
