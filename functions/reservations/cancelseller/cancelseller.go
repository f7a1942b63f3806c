// Package cancelseller is the function reservations-cancel-seller: PATCH /api/v1/reservations/{reservationId}/cancel/seller ends the reservation before its trade (the seller or an administrator) with a reason; the queue is released and reservation-cancelled tells the product.
package cancelseller

import (
	"context"
	"net/http"
	"time"

	"github.com/google/uuid"

	"github.com/8949market/market/shared/endpoint"
	"github.com/8949market/market/shared/fault"
	"github.com/8949market/market/shared/platform"
	"github.com/8949market/market/shared/registry"
	"github.com/8949market/market/shared/reservations"
)

var spec = endpoint.Spec[reservations.Reason, reservations.Detail]{
	Summary: "Cancel a reservation (seller)",
	Description: "Ends the reservation before its trade, for the seller or an administrator (MANAGER " +
		"or MASTER); anyone else gets 403 `R005`. It works while the reservation is `AVAILABLE`, " +
		"`PENDING` or `PAID`; one that has gone to a trade or ended is 409 `R004`.\n\n" +
		"`reason` is required (400 `R001` when missing or blank) and at most 500 bytes once trimmed " +
		"(400 `C001`); it is kept in the reservation's history. The reservation becomes `CANCELLED`: " +
		"the buyer and every waiting applicant lose their place, and it takes no more applications " +
		"(409 `R004`). `reservation-cancelled` tells the product, which shows `RESERVING` again while " +
		"its window is open and `EXPIRED` after it. To take the product off sale, cancel the product " +
		"instead (`PATCH /api/v1/products/{productId}/cancel`).",
	PathID: "reservationId",
	Errors: []*fault.Error{
		reservations.ErrReasonRequired, fault.ErrValidation, reservations.ErrNotFound,
		reservations.ErrForbidden, reservations.ErrClosed,
	},
	Example: &reservations.Reason{Reason: new("The chair was damaged while moving; I can no longer sell it.")},
	Answer: &reservations.Detail{
		ReservationID: uuid.MustParse("7c2e9f14-6a3b-4d58-8e1f-2b9a4c6d0e35"),
		ProductID:     uuid.MustParse("3f6b2c1d-8e4a-4b7f-9c25-6d1e0a9b8c47"),
		Status:        reservations.Cancelled,
		ProductName:   "Oak dining chair",
		Price:         45000,
		StartTime:     time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC),
		EndTime:       time.Date(2026, 12, 5, 13, 0, 0, 0, time.UTC),
		Seller:        reservations.Party{UserID: uuid.MustParse("9a4c7e21-5d3b-4f86-b2a9-1e6d8c3f7a52"), Nickname: "bobsdeals"},
		QueueLength:   0,
		CreatedAt:     time.Date(2026, 12, 1, 10, 0, 1, 0, time.UTC),
		ModifiedAt:    time.Date(2026, 12, 5, 12, 31, 40, 0, time.UTC),
	},
}

func init() {
	registry.HTTP("reservations-cancel-seller", "PATCH /api/v1/reservations/{reservationId}/cancel/seller", New, spec.Doc())
}

// New builds the handler.
func New(kit *platform.Kit) http.Handler {
	svc := reservations.NewService(kit.DB, kit.Redis, kit.Config.PaymentWindow)
	return endpoint.Handle(kit, spec, func(ctx context.Context, r endpoint.Request[reservations.Reason]) (reservations.Detail, error) {
		return svc.CancelBySeller(ctx, r.ID, r.Who, r.Body)
	})
}
