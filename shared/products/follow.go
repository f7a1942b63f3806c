package products

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/8949market/market/shared/events"
	"github.com/8949market/market/shared/fault"
)

// Follow applies another domain's event about product id inside tx, the transaction of
// the consumer's inbox (the effect of an inbox.Handle): apply runs under the product's
// row lock and reports whether it changed the product; if not, nothing is written. An
// event that no longer applies (an older reservation version, a product already past
// that state) is acknowledged. So is one about a missing or deleted product: its sale
// was cancelled with it and product-cancelled told the other domains. An event that
// names no product is the event's fault (400 C017), dead-lettered where an operator
// sees it.
func Follow(ctx context.Context, tx pgx.Tx, id uuid.UUID, apply func(p *Product, now time.Time) bool) error {
	if id == uuid.Nil {
		return fault.ErrMalformedEvent.WithMessage("the event names no productId").OnField("productId")
	}
	p, err := UpdateTx(ctx, tx, id, func(p *Product) (bool, error) { return apply(p, time.Now()), nil })
	if errors.Is(err, ErrNotFound) {
		slog.WarnContext(ctx, "event for a missing or deleted product ignored", "productId", id)
		return nil
	}
	if err != nil {
		return err
	}
	slog.InfoContext(ctx, "product followed event", "productId", id, "status", p.Status)
	return nil
}

// The effects of the products consumers, one per event they follow, each an
// inbox.Effect: the consumer function is inbox.Handle(db, name, products.OnX).

// OnReservationApplied records the reservation's new buyer (reservation-applied), so the
// deal does not expire while the buyer pays and trades.
func OnReservationApplied(ctx context.Context, tx pgx.Tx, d events.ReservationData) error {
	return Follow(ctx, tx, d.ProductID, func(p *Product, now time.Time) bool {
		return d.BuyerID != nil && p.ReservationApplied(d.Version, *d.BuyerID, now)
	})
}

// OnReservationCompleted moves the deal to its trade (reservation-completed).
func OnReservationCompleted(ctx context.Context, tx pgx.Tx, d events.ReservationData) error {
	return Follow(ctx, tx, d.ProductID, func(p *Product, now time.Time) bool { return p.ReservationCompleted(d.Version, now) })
}

// OnReservationCancelled drops the buyer (reservation-cancelled): the deal is on sale again
// while its window is open, EXPIRED once it has closed.
func OnReservationCancelled(ctx context.Context, tx pgx.Tx, d events.ReservationData) error {
	return Follow(ctx, tx, d.ProductID, func(p *Product, now time.Time) bool { return p.ReservationCancelled(d.Version, now) })
}

// OnReservationTradeFail records that a trade could not be opened, for administrators to
// see, and takes the deal back from the trade (reservation-tradefail).
func OnReservationTradeFail(ctx context.Context, tx pgx.Tx, d events.ReservationTradeFailData) error {
	return Follow(ctx, tx, d.ProductID, func(p *Product, now time.Time) bool { return p.TradeFailed(d.Reason, now) })
}

// OnTradeCompleted marks the deal sold (trade-completed).
func OnTradeCompleted(ctx context.Context, tx pgx.Tx, d events.TradeData) error {
	return Follow(ctx, tx, d.ProductID, func(p *Product, now time.Time) bool { return p.TradeCompleted(now) })
}

// OnTradeCancelled takes the deal back from its trade (trade-cancelled); the reservation's
// next events say whether another applicant takes it.
func OnTradeCancelled(ctx context.Context, tx pgx.Tx, d events.TradeData) error {
	return Follow(ctx, tx, d.ProductID, func(p *Product, now time.Time) bool { return p.TradeCancelled(now) })
}

// OnProductFailed marks a deal whose reservation could not be opened FAILED, with the
// reason (product-failed).
func OnProductFailed(ctx context.Context, tx pgx.Tx, d events.ProductFailedData) error {
	return Follow(ctx, tx, d.ProductID, func(p *Product, now time.Time) bool { return p.DealFailed(d.Reason, now) })
}
