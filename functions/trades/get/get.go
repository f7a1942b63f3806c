// Package get is the function trades-get: GET /api/v1/trades/{tradeId} shows a trade to its buyer, its seller and administrators only.
package get

import (
	"context"
	"net/http"
	"time"

	"github.com/google/uuid"

	"github.com/8949market/market/shared/endpoint"
	"github.com/8949market/market/shared/fault"
	"github.com/8949market/market/shared/platform"
	"github.com/8949market/market/shared/registry"
	"github.com/8949market/market/shared/trades"
)

var spec = endpoint.Spec[endpoint.None, trades.Trade]{
	Summary: "Get a trade",
	Description: "Returns trade `tradeId` to its buyer, its seller or an administrator (MANAGER or MASTER); " +
		"anyone else gets 403 `T027`. An unknown trade is 404 `T025`.\n\n" +
		"`tradeStatus` is `TRADING` until both parties complete (`COMPLETED`) or one cancels (`CANCELLED`); " +
		"`buyerStatus` and `sellerStatus` say what each party did. `buyerName` and `sellerName` are the " +
		"parties' nicknames when the trade opened. `chatRoomId` appears once the trade's chat room exists. " +
		"`version` counts the parties' changes.",
	PathID: "tradeId",
	Errors: []*fault.Error{trades.ErrNotFound, trades.ErrNotParticipant},
	Answer: &trades.Trade{
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
	},
}

func init() {
	registry.HTTP("trades-get", "GET /api/v1/trades/{tradeId}", New, spec.Doc())
}

// New builds the handler.
func New(kit *platform.Kit) http.Handler {
	store := trades.NewStore(kit.DB)
	return endpoint.Handle(kit, spec, func(ctx context.Context, r endpoint.Request[endpoint.None]) (trades.Trade, error) {
		return store.Get(ctx, r.ID, r.Who)
	})
}
