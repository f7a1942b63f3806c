// Package create is the function products-create: POST /api/v1/products lists a product
// as a time deal sold by the caller (products.Store.Add).
package create

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

var spec = endpoint.Spec[products.Draft, products.View]{
	Summary: "List a product as a time deal",
	Description: "Lists a product sold by the caller, who becomes its seller (any signed-in user). " +
		"The deal opens for applications at `startTime` and closes at `endTime`, both to the microsecond, " +
		"kept in UTC.\n\n" +
		"Rules: `name` is required, 1 to 100 characters once trimmed (`P008`); `description` is optional, " +
		"at most 2000 characters (`P011`); `price` is a whole number from 1 to 1,000,000,000 (`P002`); " +
		"`startTime` and `endTime` are required (`P012`), `startTime` in the future (`P004`), `endTime` " +
		"after it (`P003`) and at least 15 minutes after it (`P007`). The first rule broken is reported, " +
		"with its field.\n\n" +
		"The product starts as `PENDING_RESERVATION`. Its reservation is opened from the " +
		"`product-created` event a moment later: until then " +
		"`GET /api/v1/reservations?productId=` answers 404 `R006`.",
	Status: http.StatusCreated,
	Errors: []*fault.Error{
		products.ErrPrice, products.ErrEndBeforeStart, products.ErrStartInPast, products.ErrWindowTooShort,
		products.ErrName, products.ErrDescription, products.ErrScheduleRequired,
	},
	Example: &products.Draft{
		Name:        new("Oak dining chair"),
		Description: new("Solid oak, bought in 2021, a few scratches on the left leg. Pick-up in Mapo-gu."),
		Price:       new(int64(45000)),
		StartTime:   new(time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)),
		EndTime:     new(time.Date(2026, 12, 5, 13, 0, 0, 0, time.UTC)),
	},
	Answer: &products.View{
		ProductID:      uuid.MustParse("3f6b2c1d-8e4a-4b7f-9c25-6d1e0a9b8c47"),
		Name:           "Oak dining chair",
		Description:    "Solid oak, bought in 2021, a few scratches on the left leg. Pick-up in Mapo-gu.",
		Price:          45000,
		Status:         products.PendingReservation,
		SellerID:       uuid.MustParse("9a4c7e21-5d3b-4f86-b2a9-1e6d8c3f7a52"),
		SellerNickname: "bobsdeals",
		StartTime:      time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC),
		EndTime:        time.Date(2026, 12, 5, 13, 0, 0, 0, time.UTC),
		CreatedAt:      time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC),
		ModifiedAt:     time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC),
		Photos:         []products.Photo{},
	},
}

func init() {
	registry.HTTP("products-create", "POST /api/v1/products", New, spec.Doc())
}

// New builds the handler.
func New(kit *platform.Kit) http.Handler {
	store := products.NewStore(kit.DB)
	return endpoint.Handle(kit, spec, func(ctx context.Context, r endpoint.Request[products.Draft]) (products.View, error) {
		return store.Add(ctx, r.Body, r.Who)
	})
}
