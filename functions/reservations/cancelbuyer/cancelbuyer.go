// Package cancelbuyer is the function reservations-cancel-buyer: PATCH /api/v1/reservations/{reservationId}/cancel/buyer withdraws the buyer (the buyer or an administrator) with a reason; the next applicant in the queue becomes the buyer, or the deal reopens or ends.
package cancelbuyer

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
	Summary: "Withdraw the buyer",
	Description: "Withdraws the current buyer, for the buyer themself or an administrator (MANAGER or " +
		"MASTER); anyone else gets 403 `R005`. Only a reservation awaiting payment or completion " +
		"(`PENDING`, `PAID`) can lose its buyer: 409 `R004` otherwise, once it has gone to a trade " +
		"included.\n\n" +
		"`reason` is required (400 `R001` when missing or blank) and at most 500 bytes once trimmed " +
		"(400 `C001`); it is kept in the reservation's history. The next applicant waiting becomes " +
		"the buyer (`PENDING`, with a new payment deadline; event `reservation-applied`); with nobody " +
		"waiting the deal is open again (`AVAILABLE`) while its window is and `CANCELLED` after it " +
		"(`reservation-cancelled`).\n\n" +
		"The answer is the reservation as the caller now sees it: a buyer who withdrew is no longer " +
		"a party, so `buyer` and `paymentDeadline` are not shown to them.",
	PathID: "reservationId",
	Errors: []*fault.Error{
		reservations.ErrReasonRequired, fault.ErrValidation, reservations.ErrNotFound,
		reservations.ErrForbidden, reservations.ErrClosed,
	},
	Example: &reservations.Reason{Reason: new("I found the same chair closer to home.")},
	Answer: &reservations.Detail{
		ReservationID: uuid.MustParse("7c2e9f14-6a3b-4d58-8e1f-2b9a4c6d0e35"),
		ProductID:     uuid.MustParse("3f6b2c1d-8e4a-4b7f-9c25-6d1e0a9b8c47"),
		Status:        reservations.Pending,
		ProductName:   "Oak dining chair",
		Price:         45000,
		StartTime:     time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC),
		EndTime:       time.Date(2026, 12, 5, 13, 0, 0, 0, time.UTC),
		Seller:        reservations.Party{UserID: uuid.MustParse("9a4c7e21-5d3b-4f86-b2a9-1e6d8c3f7a52"), Nickname: "bobsdeals"},
		QueueLength:   2,
		MyApplication: &reservations.MyApplication{
			Status: "CANCELLED", AppliedAt: time.Date(2026, 12, 5, 12, 0, 0, 183000000, time.UTC),
		},
		CreatedAt:  time.Date(2026, 12, 1, 10, 0, 1, 0, time.UTC),
		ModifiedAt: time.Date(2026, 12, 5, 12, 20, 4, 0, time.UTC),
	},
}

func init() {
	registry.HTTP("reservations-cancel-buyer", "PATCH /api/v1/reservations/{reservationId}/cancel/buyer", New, spec.Doc())
}

// New builds the handler.
func New(kit *platform.Kit) http.Handler {
	svc := reservations.NewService(kit.DB, kit.Redis, kit.Config.PaymentWindow)
	return endpoint.Handle(kit, spec, func(ctx context.Context, r endpoint.Request[reservations.Reason]) (reservations.Detail, error) {
		return svc.CancelByBuyer(ctx, r.ID, r.Who, r.Body)
	})
}
