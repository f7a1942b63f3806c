// Package paymentconfirm is the function reservations-payment-confirm: PATCH /api/v1/reservations/{reservationId}/paymentconfirm records the buyer's payment (administrators: there is no payment service yet).
package paymentconfirm

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

var spec = endpoint.Spec[endpoint.None, reservations.Detail]{
	Summary: "Confirm the buyer's payment (administrators)",
	Description: "Records that the buyer has paid, for administrators (MANAGER or MASTER) only — there " +
		"is no payment service yet, so an operator or a payment system's service account confirms; " +
		"anyone else, the buyer included, gets 403 `R005`.\n\n" +
		"Only a reservation awaiting payment (`PENDING`) can be paid, and only before its " +
		"`paymentDeadline`: 409 `R004` otherwise. The reservation becomes `PAID`, its deadline is " +
		"cleared, and the seller can complete it (`PATCH /api/v1/reservations/{reservationId}/complete`).",
	PathID: "reservationId",
	Errors: []*fault.Error{reservations.ErrForbidden, reservations.ErrNotFound, reservations.ErrClosed},
	Answer: &reservations.Detail{
		ReservationID: uuid.MustParse("7c2e9f14-6a3b-4d58-8e1f-2b9a4c6d0e35"),
		ProductID:     uuid.MustParse("3f6b2c1d-8e4a-4b7f-9c25-6d1e0a9b8c47"),
		Status:        reservations.Paid,
		ProductName:   "Oak dining chair",
		Price:         45000,
		StartTime:     time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC),
		EndTime:       time.Date(2026, 12, 5, 13, 0, 0, 0, time.UTC),
		Seller:        reservations.Party{UserID: uuid.MustParse("9a4c7e21-5d3b-4f86-b2a9-1e6d8c3f7a52"), Nickname: "bobsdeals"},
		Buyer: &reservations.Party{
			UserID: uuid.MustParse("0b8f5a2e-3c41-4d7a-9e62-5f1c8a3b7d90"), Nickname: "alicek",
		},
		QueueLength: 3,
		CreatedAt:   time.Date(2026, 12, 1, 10, 0, 1, 0, time.UTC),
		ModifiedAt:  time.Date(2026, 12, 5, 12, 41, 17, 0, time.UTC),
	},
}

func init() {
	registry.HTTP("reservations-payment-confirm", "PATCH /api/v1/reservations/{reservationId}/paymentconfirm", New, spec.Doc())
}

// New builds the handler.
func New(kit *platform.Kit) http.Handler {
	svc := reservations.NewService(kit.DB, kit.Redis, kit.Config.PaymentWindow)
	return endpoint.Handle(kit, spec, func(ctx context.Context, r endpoint.Request[endpoint.None]) (reservations.Detail, error) {
		return svc.ConfirmPayment(ctx, r.ID, r.Who)
	})
}
