// Package update is the function products-update: PATCH /api/v1/products/{productId}
// changes a product's name, description or price. Only the seller or an administrator
// may, and only until a minute before the deal opens, so no one can have applied yet
// (products.Store.Edit).
package update

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

var spec = endpoint.Spec[products.Change, products.View]{
	Summary: "Change a product's name, description or price",
	Description: "Changes the fields given; absent or `null` fields stay as they are. Only the seller " +
		"or an administrator (MANAGER or MASTER) may (403 `P009` otherwise), and only while the deal " +
		"is `PENDING_RESERVATION` and more than a minute before `startTime`, so nobody can have " +
		"applied: later, or in any other state, it is 409 `P005`. The window moves with " +
		"`PATCH /api/v1/products/{productId}/schedule`.\n\n" +
		"A body with none of the three fields is 400 `C001`. The fields follow the listing's rules: " +
		"`name` 1 to 100 characters once trimmed (`P008`), `description` at most 2000 characters " +
		"(`P011`), `price` a whole number from 1 to 1,000,000,000 (`P002`). The change is announced " +
		"(`product-updated`) so the reservation shows it.",
	PathID: "productId",
	Errors: []*fault.Error{
		products.ErrNotFound, products.ErrForbidden, products.ErrNothingToUpdate, products.ErrStateChange,
		products.ErrName, products.ErrDescription, products.ErrPrice,
	},
	Example: &products.Change{Price: new(int64(39000))},
	Answer: &products.View{
		ProductID:      uuid.MustParse("3f6b2c1d-8e4a-4b7f-9c25-6d1e0a9b8c47"),
		Name:           "Oak dining chair",
		Description:    "Solid oak, bought in 2021, a few scratches on the left leg. Pick-up in Mapo-gu.",
		Price:          39000,
		Status:         products.PendingReservation,
		SellerID:       uuid.MustParse("9a4c7e21-5d3b-4f86-b2a9-1e6d8c3f7a52"),
		SellerNickname: "bobsdeals",
		StartTime:      time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC),
		EndTime:        time.Date(2026, 12, 5, 13, 0, 0, 0, time.UTC),
		CreatedAt:      time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC),
		ModifiedAt:     time.Date(2026, 12, 2, 21, 14, 5, 0, time.UTC),
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
	registry.HTTP("products-update", "PATCH /api/v1/products/{productId}", New, spec.Doc())
}

// New builds the handler.
func New(kit *platform.Kit) http.Handler {
	store := products.NewStore(kit.DB)
	return endpoint.Handle(kit, spec, func(ctx context.Context, r endpoint.Request[products.Change]) (products.View, error) {
		return store.Edit(ctx, r.ID, r.Body, r.Who)
	})
}
