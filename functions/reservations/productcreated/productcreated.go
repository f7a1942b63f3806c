// Package productcreated is the function reservations-product-created: it consumes
// product-created and opens the product's reservation, once per product however often the
// event is delivered.
package productcreated

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	"github.com/jackc/pgx/v5"

	"github.com/8949market/market/shared/events"
	"github.com/8949market/market/shared/inbox"
	"github.com/8949market/market/shared/platform"
	"github.com/8949market/market/shared/registry"
	"github.com/8949market/market/shared/reservations"
)

const name = "reservations-product-created"

func init() {
	registry.Event(name, events.ProductCreated, New)
}

// New builds the consumer.
func New(kit *platform.Kit) registry.EventHandler {
	return inbox.Consume(kit.DB, name, func(ctx context.Context, tx pgx.Tx, e cloudevents.Event) error {
		var p events.ProductCreatedData
		if err := json.Unmarshal(e.Data(), &p); err != nil {
			return fmt.Errorf("decode product-created: %w", err)
		}
		created, err := reservations.OpenForProduct(ctx, tx, p)
		if err != nil {
			return err
		}
		slog.InfoContext(ctx, "reservation opened", "productId", p.ProductID, "created", created)
		return nil
	})
}
