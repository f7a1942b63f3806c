// Package list is the function trades-list: GET /api/v1/trades lists the trades the
// caller is a party to (administrators: all), newest first; status (TRADING, COMPLETED,
// CANCELLED) and role (BUYER, SELLER) filter; size and cursor page.
package list

import (
	"context"
	"net/http"
	"time"

	"github.com/google/uuid"

	"github.com/8949market/market/shared/endpoint"
	"github.com/8949market/market/shared/fault"
	"github.com/8949market/market/shared/page"
	"github.com/8949market/market/shared/platform"
	"github.com/8949market/market/shared/registry"
	"github.com/8949market/market/shared/trades"
)

var spec = endpoint.Spec[endpoint.None, page.Page[trades.Trade]]{
	Summary: "List my trades",
	Description: "Lists the trades the caller is a party to, as buyer or seller, newest first; an " +
		"administrator (MANAGER or MASTER) sees every trade, or only their own with `role`. `status` " +
		"keeps the trades in one state, `role` those where the caller is the buyer or the seller.\n\n" +
		"Keyset pagination: `size` trades per page (1 to 100, default 20), then pass the answer's " +
		"`nextCursor` as `cursor` for the next page with the same `status` and `role`; `hasNext` is false " +
		"and `nextCursor` absent on the last page. A cursor made for other filters, and any malformed " +
		"parameter, is 400 `C015` naming the parameter.",
	Query: []registry.Param{
		{Name: "status", Type: "string", Enum: []string{"TRADING", "COMPLETED", "CANCELLED"}, Example: "TRADING",
			Description: "Only trades in this state (any case)."},
		{Name: "role", Type: "string", Enum: []string{"BUYER", "SELLER"}, Example: "SELLER",
			Description: "Only trades in which the caller is the buyer, or the seller (any case)."},
		{Name: "size", Type: "integer", Minimum: new(1.0), Maximum: new(100.0), Default: 20,
			Description: "Trades per page, 1 to 100."},
		{Name: "cursor", Type: "string",
			Description: "The `nextCursor` of the previous page, with the same filters; absent for the first page."},
	},
	Errors: []*fault.Error{fault.ErrBadParameter},
	Answer: &page.Page[trades.Trade]{
		Content: []trades.Trade{{
			ID:             uuid.MustParse("c5e8a3f2-1b7d-4e9a-8c6f-3d2b9a7e1f04"),
			ReservationID:  uuid.MustParse("2e7b4d9c-8a1f-4c3e-b5d6-9f0a1e2c3b47"),
			Status:         trades.Trading,
			BuyerID:        uuid.MustParse("0b8f5a2e-3c41-4d7a-9e62-5f1c8a3b7d90"),
			BuyerNickname:  "alicek",
			BuyerStatus:    trades.Completed,
			SellerID:       uuid.MustParse("9a4c7e21-5d3b-4f86-b2a9-1e6d8c3f7a52"),
			SellerNickname: "bobsdeals",
			SellerStatus:   trades.Trading,
			ProductID:      uuid.MustParse("3f6b2c1d-8e4a-4b7f-9c25-6d1e0a9b8c47"),
			ProductName:    "Oak dining chair",
			ProductPrice:   45000,
			ChatRoomID:     new(uuid.MustParse("e4d3c2b1-a0f9-4e8d-9c7b-6a5f4e3d2c1b")),
			Version:        1,
			CreatedAt:      time.Date(2026, 12, 5, 12, 20, 3, 0, time.UTC),
			ModifiedAt:     time.Date(2026, 12, 6, 18, 4, 11, 0, time.UTC),
		}},
		Size:       1,
		NextCursor: "eyJxIjoiRVhBTVBMRS1DVVJTT1IifQ",
		HasNext:    true,
	},
}

func init() {
	registry.HTTP("trades-list", "GET /api/v1/trades", New, spec.Doc())
}

// New builds the handler.
func New(kit *platform.Kit) http.Handler {
	store := trades.NewStore(kit.DB)
	return endpoint.Handle(kit, spec, func(ctx context.Context, r endpoint.Request[endpoint.None]) (page.Page[trades.Trade], error) {
		return trades.List(ctx, store, r.Who, r.Query)
	})
}
