// Package cancel is the function products-cancel: PATCH /api/v1/products/{productId}/cancel
// ends a sale before it goes to a trade (product-cancelled closes its reservation and
// releases the queue). Only the seller or an administrator may (products.Store.Cancel).
package cancel

import (
	"context"
	"net/http"
	"time"

	"github.com/google/uuid"

	"github.com/8949market/market/shared/endpoint"
	"github.com/8949market/market/shared/fault"
	"github.com/8949market/market/shared/platform"
	"github.com/8949market/market/shared/products"
	"github.com/8949market/market/shared/registry"
)

var spec = endpoint.Spec[endpoint.None, products.View]{
	Summary: "Cancel a time deal",
	Description: "Ends the sale, for the seller or an administrator (MANAGER or MASTER); anyone else " +
		"gets 403 `P009`. It works until the deal goes to a trade: a `PENDING_RESERVATION` or " +
		"`RESERVING` deal, with or without applicants, becomes `SALE_CANCELED`. The " +
		"`product-cancelled` event then closes its reservation: the buyer and everyone waiting lose " +
		"their place.\n\n" +
		"A deal in a trade or sold (`IN_TRADE`, `COMPLETED`) or one that has already ended " +
		"(`EXPIRED`, `SALE_CANCELED`, `FAILED`) is 409 `P005`; an ended deal can still be removed " +
		"with `DELETE /api/v1/products/{productId}`. A deleted or unknown product is 404 `P001`.",
	PathID: "productId",
	Errors: []*fault.Error{products.ErrNotFound, products.ErrForbidden, products.ErrStateChange},
	Answer: &products.View{
		ProductID:      uuid.MustParse("3f6b2c1d-8e4a-4b7f-9c25-6d1e0a9b8c47"),
		Name:           "Oak dining chair",
		Description:    "Solid oak, bought in 2021, a few scratches on the left leg. Pick-up in Mapo-gu.",
		Price:          45000,
		Status:         products.SaleCanceled,
		SellerID:       uuid.MustParse("9a4c7e21-5d3b-4f86-b2a9-1e6d8c3f7a52"),
		SellerNickname: "bobsdeals",
		StartTime:      time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC),
		EndTime:        time.Date(2026, 12, 5, 13, 0, 0, 0, time.UTC),
		CreatedAt:      time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC),
		ModifiedAt:     time.Date(2026, 12, 3, 8, 30, 0, 0, time.UTC),
		Photos: []products.Photo{{
			PhotoID:      uuid.MustParse("5c2e8f14-7a3b-4d69-9e05-b81f2c6d4a73"),
			ThumbnailURL: "https://storage.googleapis.com/market-8949-prod-photos/3f6b2c1d-8e4a-4b7f-9c25-6d1e0a9b8c47/5c2e8f14-7a3b-4d69-9e05-b81f2c6d4a73/thumb.jpg",
			URL:          "https://storage.googleapis.com/market-8949-prod-photos/3f6b2c1d-8e4a-4b7f-9c25-6d1e0a9b8c47/5c2e8f14-7a3b-4d69-9e05-b81f2c6d4a73/large.jpg",
			Width:        1600,
			Height:       1200,
		}},
	},
}

func init() {
	registry.HTTP("products-cancel", "PATCH /api/v1/products/{productId}/cancel", New, spec.Doc())
}

// New builds the handler.
func New(kit *platform.Kit) http.Handler {
	store := products.NewStore(kit.DB)
	return endpoint.Handle(kit, spec, func(ctx context.Context, r endpoint.Request[endpoint.None]) (products.View, error) {
		return store.Cancel(ctx, r.ID, r.Who)
	})
}
