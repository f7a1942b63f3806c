// Package remove is the function products-delete: DELETE /api/v1/products/{productId}
// removes a listing. A deal not yet in a trade is cancelled with it (product-cancelled);
// an ended one is only hidden; one in a trade or sold cannot be removed. Only the seller
// or an administrator may (products.Store.Remove).
package remove

import (
	"context"
	"net/http"
	"time"

	"github.com/8949market/market/shared/endpoint"
	"github.com/8949market/market/shared/fault"
	"github.com/8949market/market/shared/platform"
	"github.com/8949market/market/shared/products"
	"github.com/8949market/market/shared/registry"
)

var spec = endpoint.Spec[endpoint.None, products.Removal]{
	Summary: "Remove a listing",
	Description: "Deletes the listing, for the seller or an administrator (MANAGER or MASTER); anyone " +
		"else gets 403 `P009`. A deal not yet in a trade (`PENDING_RESERVATION`, `RESERVING`) is " +
		"cancelled with it, and the `product-cancelled` event closes its reservation and releases the " +
		"queue; an ended deal (`EXPIRED`, `SALE_CANCELED`, `FAILED`) is only hidden. A deal in a trade " +
		"or sold (`IN_TRADE`, `COMPLETED`) cannot be removed: 409 `P005`.\n\n" +
		"A removed product is gone from every read and search; removing it again, like any unknown " +
		"product, is 404 `P001`. The answer says when and by whom it was removed.",
	PathID: "productId",
	Errors: []*fault.Error{products.ErrNotFound, products.ErrForbidden, products.ErrStateChange},
	Answer: &products.Removal{
		ProductID: "3f6b2c1d-8e4a-4b7f-9c25-6d1e0a9b8c47",
		DeletedAt: time.Date(2026, 12, 3, 8, 30, 0, 0, time.UTC),
		DeletedBy: "9a4c7e21-5d3b-4f86-b2a9-1e6d8c3f7a52",
	},
}

func init() {
	registry.HTTP("products-delete", "DELETE /api/v1/products/{productId}", New, spec.Doc())
}

// New builds the handler.
func New(kit *platform.Kit) http.Handler {
	store := products.NewStore(kit.DB)
	return endpoint.Handle(kit, spec, func(ctx context.Context, r endpoint.Request[endpoint.None]) (products.Removal, error) {
		return store.Remove(ctx, r.ID, r.Who)
	})
}
