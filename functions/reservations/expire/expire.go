// Package expire is the function reservations-expire: PATCH /api/v1/reservations/{reservationId}/expire ends the buyer's turn to pay now (administrators), as the payment deadline would; the next applicant is promoted.
package expire

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
	Summary: "End the buyer's turn to pay (administrators)",
	Description: "Ends the buyer's turn now, as a passed payment deadline would, for administrators " +
		"(MANAGER or MASTER) only; anyone else gets 403 `R005`. Only a reservation awaiting payment " +
		"(`PENDING`) can expire: 409 `R004` otherwise.\n\n" +
		"`reason` is required (400 `R001` when missing or blank) and at most 500 bytes once trimmed " +
		"(400 `C001`); it is kept in the reservation's history. The next applicant waiting becomes " +
		"the buyer (`PENDING`, with a new payment deadline; event `reservation-applied`); with nobody " +
		"waiting the deal is open again (`AVAILABLE`) while its window is and `CANCELLED` after it " +
		"(`reservation-cancelled`).",
	PathID: "reservationId",
	Errors: []*fault.Error{
		reservations.ErrForbidden, reservations.ErrReasonRequired, fault.ErrValidation,
		reservations.ErrNotFound, reservations.ErrClosed,
	},
	Example: &reservations.Reason{Reason: new("The buyer told support they cannot pay today.")},
	Answer: &reservations.Detail{
		ReservationID: uuid.MustParse("7c2e9f14-6a3b-4d58-8e1f-2b9a4c6d0e35"),
		ProductID:     uuid.MustParse("3f6b2c1d-8e4a-4b7f-9c25-6d1e0a9b8c47"),
		Status:        reservations.Pending,
		ProductName:   "Oak dining chair",
		Price:         45000,
		StartTime:     time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC),
		EndTime:       time.Date(2026, 12, 5, 13, 0, 0, 0, time.UTC),
		Seller:        reservations.Party{UserID: uuid.MustParse("9a4c7e21-5d3b-4f86-b2a9-1e6d8c3f7a52"), Nickname: "bobsdeals"},
		Buyer: &reservations.Party{
			UserID: uuid.MustParse("6e1d4b8a-9c27-4f35-b0a6-3d8e5c1f2b79"), Nickname: "minjun",
		},
		PaymentDeadline: new(time.Date(2026, 12, 5, 13, 25, 9, 0, time.UTC)),
		QueueLength:     2,
		CreatedAt:       time.Date(2026, 12, 1, 10, 0, 1, 0, time.UTC),
		ModifiedAt:      time.Date(2026, 12, 5, 12, 25, 9, 0, time.UTC),
	},
}

func init() {
	registry.HTTP("reservations-expire", "PATCH /api/v1/reservations/{reservationId}/expire", New, spec.Doc())
}

// New builds the handler.
func New(kit *platform.Kit) http.Handler {
	svc := reservations.NewService(kit.DB, kit.Redis, kit.Config.PaymentWindow)
	return endpoint.Handle(kit, spec, func(ctx context.Context, r endpoint.Request[reservations.Reason]) (reservations.Detail, error) {
		return svc.Expire(ctx, r.ID, r.Who, r.Body)
	})
}
