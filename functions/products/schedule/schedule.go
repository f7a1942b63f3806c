// Package schedule is the function products-schedule:
// PATCH /api/v1/products/{productId}/schedule moves a deal's window. Only the seller or an
// administrator may, and only until a minute before the deal opens
// (products.Store.Reschedule).
package schedule

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

var spec = endpoint.Spec[products.Schedule, products.View]{
	Summary: "Move a deal's window",
	Description: "Sets a new window; both `startTime` and `endTime` are required (400 `P012`). Only " +
		"the seller or an administrator (MANAGER or MASTER) may (403 `P009` otherwise), and only while " +
		"the deal is `PENDING_RESERVATION` (409 `P005` in any other state) and more than a minute " +
		"before its current `startTime` (409 `P006` after that), so nobody can have applied.\n\n" +
		"The new window follows the listing's rules: `startTime` in the future (`P004`), `endTime` " +
		"after it (`P003`) and at least 15 minutes after it (`P007`); times are kept in UTC to the " +
		"microsecond. The change is announced (`product-updated`) so the reservation opens on the new " +
		"window.",
	PathID: "productId",
	Errors: []*fault.Error{
		products.ErrNotFound, products.ErrForbidden, products.ErrScheduleRequired, products.ErrStateChange,
		products.ErrScheduleLocked, products.ErrStartInPast, products.ErrEndBeforeStart, products.ErrWindowTooShort,
	},
	Example: &products.Schedule{
		StartTime: new(time.Date(2026, 12, 6, 20, 0, 0, 0, time.UTC)),
		EndTime:   new(time.Date(2026, 12, 6, 21, 30, 0, 0, time.UTC)),
	},
	Answer: &products.View{
		ProductID:      uuid.MustParse("3f6b2c1d-8e4a-4b7f-9c25-6d1e0a9b8c47"),
		Name:           "Oak dining chair",
		Description:    "Solid oak, bought in 2021, a few scratches on the left leg. Pick-up in Mapo-gu.",
		Price:          45000,
		Status:         products.PendingReservation,
		SellerID:       uuid.MustParse("9a4c7e21-5d3b-4f86-b2a9-1e6d8c3f7a52"),
		SellerNickname: "bobsdeals",
		StartTime:      time.Date(2026, 12, 6, 20, 0, 0, 0, time.UTC),
		EndTime:        time.Date(2026, 12, 6, 21, 30, 0, 0, time.UTC),
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
	registry.HTTP("products-schedule", "PATCH /api/v1/products/{productId}/schedule", New, spec.Doc())
}

// New builds the handler.
func New(kit *platform.Kit) http.Handler {
	store := products.NewStore(kit.DB)
	return endpoint.Handle(kit, spec, func(ctx context.Context, r endpoint.Request[products.Schedule]) (products.View, error) {
		return store.Reschedule(ctx, r.ID, r.Body, r.Who)
	})
}
