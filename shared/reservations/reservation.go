// Package reservations holds the reservation domain: one reservation per product, the
// race to apply when the deal opens, the applicant queue, payment and expiry.
package reservations

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/8949market/market/shared/events"
	"github.com/8949market/market/shared/outbox"
)

// Status is a reservation's state.
type Status string

// The reservation states.
const (
	Available Status = "AVAILABLE" // open for applications (inside the window)
	Pending   Status = "PENDING"   // a buyer is selected and must pay
	Paid      Status = "PAID"
	Completed Status = "COMPLETED" // handed over to a trade
	Cancelled Status = "CANCELLED"
	Closed    Status = "CLOSED" // the trade completed
)

// Reservation is the reservation of one product: the pure model its rules (rules.go)
// change under the row lock of a Store update. The rules do no I/O: they change the
// fields and collect the applications, history and events the store then writes.
type Reservation struct {
	ID             uuid.UUID
	ProductID      uuid.UUID
	SellerID       uuid.UUID
	SellerNickname string
	ProductName    string
	ProductPrice   int64
	StartTime      time.Time
	EndTime        time.Time
	Status         Status
	BuyerID        *uuid.UUID
	BuyerNickname  string
	// BuyerPosition is the buyer's place in the queue (its application).
	BuyerPosition *int64
	// PaymentDeadline is when a PENDING buyer's turn ends.
	PaymentDeadline *time.Time
	// Version counts the transitions; events carry it so products applies them in order.
	Version    int64
	CreatedAt  time.Time
	ModifiedAt time.Time

	next    *Waiting // the first applicant waiting, read with the lock
	mine    *Waiting // the caller's application, read by Store.UpdateAs
	changes          // what the rules did, for the store to write
}

// OpenForProduct creates the reservation of a newly listed product in tx: the effect of
// reservations-product-created, in its inbox transaction. It is idempotent: a product
// that already has its reservation keeps it. A product that can never have a reservation
// (its announcement is invalid) is answered with product-failed in the same transaction,
// so the product shows it instead of waiting forever.
func OpenForProduct(ctx context.Context, tx pgx.Tx, p events.ProductCreatedData) error {
	if p.ProductID == uuid.Nil {
		return fmt.Errorf("open reservation: product-created without a productId")
	}
	if p.SellerID == uuid.Nil || p.Price <= 0 || !p.EndTime.After(p.StartTime) {
		return outbox.Write(ctx, tx, outbox.Event{
			Topic: events.ProductFailed, Source: events.SourceReservations, AggregateID: p.ProductID.String(),
			Data: events.ProductFailedData{ProductID: p.ProductID, Reason: "the reservation could not be opened: invalid seller, price or window"},
		})
	}
	tag, err := tx.Exec(ctx, `
		INSERT INTO reservations.reservations
		  (id, product_id, seller_id, seller_nickname, product_name, product_price, start_time, end_time, status)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
		ON CONFLICT (product_id) DO NOTHING`,
		uuid.New(), p.ProductID, p.SellerID, p.SellerNickname, p.Name, p.Price, p.StartTime, p.EndTime, Available)
	if err != nil {
		return fmt.Errorf("open reservation for product %s: %w", p.ProductID, err)
	}
	slog.InfoContext(ctx, "reservation opened", "productId", p.ProductID, "created", tag.RowsAffected() == 1)
	return nil
}
