package products

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

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
