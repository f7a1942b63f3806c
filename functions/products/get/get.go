// Package get is the function products-get: GET /api/v1/products/{productId} shows one
// product with its effective status (products.Store.Show).
package get

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
	Summary: "Get a product",
	Description: "Shows one product to any signed-in user. `status` is the effective state at the " +
		"moment of the answer, read from the clock: the deal is `RESERVING` from `startTime` to the " +
		"microsecond and `EXPIRED` from `endTime` when nobody holds it, whether or not the scheduled " +
		"tidy-up has stored it yet. A `FAILED` deal, or one whose trade could not be opened, shows " +
		"`failureReason` and `failedAt`.\n\n" +
		"A deleted product is 404 `P001`, as an unknown one is.",
	PathID: "productId",
	Errors: []*fault.Error{products.ErrNotFound},
	Answer: &products.View{
		ProductID:      uuid.MustParse("3f6b2c1d-8e4a-4b7f-9c25-6d1e0a9b8c47"),
		Name:           "Oak dining chair",
		Description:    "Solid oak, bought in 2021, a few scratches on the left leg. Pick-up in Mapo-gu.",
		Price:          45000,
		Status:         products.Reserving,
		SellerID:       uuid.MustParse("9a4c7e21-5d3b-4f86-b2a9-1e6d8c3f7a52"),
		SellerNickname: "bobsdeals",
		StartTime:      time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC),
		EndTime:        time.Date(2026, 12, 5, 13, 0, 0, 0, time.UTC),
		CreatedAt:      time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC),
		ModifiedAt:     time.Date(2026, 12, 5, 12, 0, 0, 412000, time.UTC),
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
	registry.HTTP("products-get", "GET /api/v1/products/{productId}", New, spec.Doc())
}

// New builds the handler.
func New(kit *platform.Kit) http.Handler {
	store := products.NewStore(kit.DB)
	return endpoint.Handle(kit, spec, func(ctx context.Context, r endpoint.Request[endpoint.None]) (products.View, error) {
		return store.Show(ctx, r.ID)
	})
}
