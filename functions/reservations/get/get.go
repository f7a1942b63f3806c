// Package get is the function reservations-get: GET /api/v1/reservations/{reservationId}
// shows a reservation to its seller, its buyer, anyone who applied (with their own place)
// and administrators, always checked before anything is read out.
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
	"github.com/8949market/market/shared/reservations"
)

var spec = endpoint.Spec[endpoint.None, reservations.Detail]{
	Summary: "Get a reservation",
	Description: "Shows the reservation to its seller, its buyer, anyone who has applied to it and " +
		"administrators (MANAGER or MASTER); anyone else gets 403 `R005`. The clock is applied first: " +
		"a payment deadline that has passed or a window that has closed takes effect before the answer " +
		"(the next applicant promoted, or the deal reopened or ended).\n\n" +
		"`buyer` and `paymentDeadline` are shown to the seller, the buyer and administrators only. " +
		"`queueLength` counts the applicants waiting; `myApplication` is the caller's own application, " +
		"if any: `SELECTED` (the buyer's), `WAITING` with its `place` (1 is next in line), `LEFT` or " +
		"`CANCELLED`.",
	PathID: "reservationId",
	Errors: []*fault.Error{reservations.ErrNotFound, reservations.ErrForbidden},
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
			UserID: uuid.MustParse("0b8f5a2e-3c41-4d7a-9e62-5f1c8a3b7d90"), Nickname: "alicek",
		},
		PaymentDeadline: new(time.Date(2026, 12, 5, 13, 0, 0, 183000000, time.UTC)),
		QueueLength:     3,
		MyApplication: &reservations.MyApplication{
			Status: "SELECTED", AppliedAt: time.Date(2026, 12, 5, 12, 0, 0, 183000000, time.UTC),
		},
		CreatedAt:  time.Date(2026, 12, 1, 10, 0, 1, 0, time.UTC),
		ModifiedAt: time.Date(2026, 12, 5, 12, 0, 0, 183000000, time.UTC),
	},
}

func init() {
	registry.HTTP("reservations-get", "GET /api/v1/reservations/{reservationId}", New, spec.Doc())
}

// New builds the handler.
func New(kit *platform.Kit) http.Handler {
	svc := reservations.NewService(kit.DB, kit.Redis, kit.Config.PaymentWindow)
	return endpoint.Handle(kit, spec, func(ctx context.Context, r endpoint.Request[endpoint.None]) (reservations.Detail, error) {
		return svc.Get(ctx, r.ID, r.Who)
	})
}
