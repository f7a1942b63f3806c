// Package cancel is the function trades-cancel: PATCH /api/v1/trades/{tradeId}/cancel ends a trading trade with {cancelReasonType, cancelReasonDetail}, a reason valid for the caller's side (ETC needs a detail); trade-cancelled lets the reservation move on.
package cancel

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

var spec = endpoint.Spec[trades.Cancellation, trades.Trade]{
	Summary: "Cancel a trade",
	Description: "Ends a trade that is still `TRADING`, with a reason allowed for the caller's side; the " +
		"trade and the canceller's status become `CANCELLED`, and the deal goes to the reservation's next " +
		"applicant, or reopens or ends. Answers the cancelled trade.\n\n" +
		"`cancelReasonType` (any case): `CHANGE_OF_MIND`, `SCHEDULE_CONFLICT` or `ETC` for the buyer and the " +
		"seller; `PRODUCT_ISSUE` or `DUPLICATE_REGISTRATION` for the seller; `REFUND_REQUEST` for the " +
		"buyer; `POLICY_VIOLATION` for an administrator (MANAGER or MASTER) who is not a party. A reason " +
		"not allowed for the caller's side is 400 `T020`. `cancelReasonDetail` is required for `ETC` " +
		"(400 `T019`), optional otherwise, at most 1000 characters (400 `C001`).\n\n" +
		"Anyone but the parties and administrators gets 403 `T027`. A trade already completed or " +
		"cancelled is 409 `T026`; of a cancellation and a completion racing, one wins and the other gets " +
		"409 (`T026`, or `T028`: read the trade and try again). An unknown trade is 404 `T025`. The reason " +
		"is checked before the trade is read.",
	PathID:  "tradeId",
	Example: &trades.Cancellation{ReasonType: "SCHEDULE_CONFLICT", Detail: "I cannot make the pick-up this week."},
	Errors: []*fault.Error{
		trades.ErrReasonRequired, trades.ErrUnknownReason, trades.ErrDetailRequired, fault.ErrValidation,
		trades.ErrNotFound, trades.ErrNotParticipant, trades.ErrReasonNotForYou, trades.ErrClosed, trades.ErrConcurrent,
	},
	Answer: &trades.Trade{
		ID:             uuid.MustParse("c5e8a3f2-1b7d-4e9a-8c6f-3d2b9a7e1f04"),
		ReservationID:  uuid.MustParse("2e7b4d9c-8a1f-4c3e-b5d6-9f0a1e2c3b47"),
		Status:         trades.Cancelled,
		BuyerID:        uuid.MustParse("0b8f5a2e-3c41-4d7a-9e62-5f1c8a3b7d90"),
		BuyerNickname:  "alicek",
		BuyerStatus:    trades.Cancelled,
		SellerID:       uuid.MustParse("9a4c7e21-5d3b-4f86-b2a9-1e6d8c3f7a52"),
		SellerNickname: "bobsdeals",
		SellerStatus:   trades.Trading,
		ProductID:      uuid.MustParse("3f6b2c1d-8e4a-4b7f-9c25-6d1e0a9b8c47"),
		ProductName:    "Oak dining chair",
		ProductPrice:   45000,
		ChatRoomID:     new(uuid.MustParse("e4d3c2b1-a0f9-4e8d-9c7b-6a5f4e3d2c1b")),
		Version:        1,
		CreatedAt:      time.Date(2026, 12, 5, 12, 20, 3, 0, time.UTC),
		ModifiedAt:     time.Date(2026, 12, 6, 9, 12, 30, 0, time.UTC),
	},
}

func init() {
	registry.HTTP("trades-cancel", "PATCH /api/v1/trades/{tradeId}/cancel", New, spec.Doc())
}

// New builds the handler.
func New(kit *platform.Kit) http.Handler {
	store := trades.NewStore(kit.DB)
	return endpoint.Handle(kit, spec, func(ctx context.Context, r endpoint.Request[trades.Cancellation]) (trades.Trade, error) {
		return trades.Cancel(ctx, store, r.ID, r.Who, r.Body)
	})
}
