// Package complete is the function trades-complete: PATCH /api/v1/trades/{tradeId}/complete records the caller's completion (the buyer or the seller); the second completes the trade and announces trade-completed.
package complete

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
	Summary: "Complete my side of a trade",
	Description: "Records that the caller, the trade's buyer or seller, has completed their side: their " +
		"`buyerStatus` or `sellerStatus` becomes `COMPLETED`. The second party's completion completes the " +
		"trade (`tradeStatus` `COMPLETED`): the item is sold and the deal closes. Answers the trade as it " +
		"now stands.\n\n" +
		"Only the parties complete a trade: anyone else, administrators included, gets 403 `T027`. " +
		"Completing twice is 409 `T029`; a trade already completed or cancelled is 409 `T026`. Of a " +
		"completion and a cancellation racing, one wins and the other gets 409 (`T026`, or `T028`: read " +
		"the trade and try again). An unknown trade is 404 `T025`.",
	PathID: "tradeId",
	Errors: []*fault.Error{
		trades.ErrNotFound, trades.ErrNotParticipant, trades.ErrClosed, trades.ErrAlreadyDone, trades.ErrConcurrent,
	},
	Answer: &trades.Trade{
		ID:             uuid.MustParse("c5e8a3f2-1b7d-4e9a-8c6f-3d2b9a7e1f04"),
		ReservationID:  uuid.MustParse("2e7b4d9c-8a1f-4c3e-b5d6-9f0a1e2c3b47"),
		Status:         trades.Completed,
		BuyerID:        uuid.MustParse("0b8f5a2e-3c41-4d7a-9e62-5f1c8a3b7d90"),
		BuyerNickname:  "alicek",
		BuyerStatus:    trades.Completed,
		SellerID:       uuid.MustParse("9a4c7e21-5d3b-4f86-b2a9-1e6d8c3f7a52"),
		SellerNickname: "bobsdeals",
		SellerStatus:   trades.Completed,
		ProductID:      uuid.MustParse("3f6b2c1d-8e4a-4b7f-9c25-6d1e0a9b8c47"),
		ProductName:    "Oak dining chair",
		ProductPrice:   45000,
		ChatRoomID:     new(uuid.MustParse("e4d3c2b1-a0f9-4e8d-9c7b-6a5f4e3d2c1b")),
		Version:        2,
		CreatedAt:      time.Date(2026, 12, 5, 12, 20, 3, 0, time.UTC),
		ModifiedAt:     time.Date(2026, 12, 6, 19, 30, 45, 0, time.UTC),
	},
}

func init() {
	registry.HTTP("trades-complete", "PATCH /api/v1/trades/{tradeId}/complete", New, spec.Doc())
}

// New builds the handler.
func New(kit *platform.Kit) http.Handler {
	store := trades.NewStore(kit.DB)
	return endpoint.Handle(kit, spec, func(ctx context.Context, r endpoint.Request[endpoint.None]) (trades.Trade, error) {
		return trades.Complete(ctx, store, r.ID, r.Who)
	})
}
