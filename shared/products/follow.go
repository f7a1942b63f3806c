package products

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/8949market/market/shared/inbox"
)

// Follow builds the consumer of another domain's event about a product: it decodes the
// payload as T, finds the product (productID), and applies the event with apply under the
// product's row lock, once per event (inbox). apply reports whether it changed the
// product; an event that no longer applies (an older reservation version, a product
// already past that state) changes nothing and is acknowledged. A payload that cannot be
// decoded or names no product is an error, so it is retried and then dead-lettered where
// an operator sees it.
func Follow[T any](db *pgxpool.Pool, consumer string, productID func(T) uuid.UUID,
	apply func(p *Product, data T, now time.Time) bool) func(context.Context, cloudevents.Event) error {
	return inbox.Consume(db, consumer, func(ctx context.Context, tx pgx.Tx, e cloudevents.Event) error {
		var data T
		if err := json.Unmarshal(e.Data(), &data); err != nil {
			return fmt.Errorf("decode %s: %w", e.Type(), err)
		}
		id := productID(data)
		if id == uuid.Nil {
			return fmt.Errorf("%s: no productId in the payload", e.Type())
		}
		p, err := UpdateTx(ctx, tx, id, func(p *Product) (bool, error) {
			return apply(p, data, time.Now()), nil
		})
		if errors.Is(err, ErrNotFound) {
			// A deleted product: its sale was cancelled with it and product-cancelled told
			// the other domains.
			slog.WarnContext(ctx, "event for a missing or deleted product ignored", "consumer", consumer, "productId", id, "type", e.Type())
			return nil
		}
		if err != nil {
			return err
		}
		slog.InfoContext(ctx, "product followed event", "consumer", consumer, "productId", id, "type", e.Type(), "status", p.Status)
		return nil
	})
}
