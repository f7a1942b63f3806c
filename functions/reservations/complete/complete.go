// Package complete is the function reservations-complete: PATCH /api/v1/reservations/{reservationId}/complete hands a paid reservation to its trade (the seller or an administrator); reservation-completed opens the trade.
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
	"github.com/8949market/market/shared/reservations"
)

var spec = endpoint.Spec[endpoint.None, reservations.Detail]{
	Summary: "Hand a paid reservation to its trade",
	Description: "Completes the reservation for the seller or an administrator (MANAGER or MASTER); " +
		"anyone else, the buyer included, gets 403 `R005`. Only a `PAID` reservation can be completed: " +
		"409 `R004` otherwise.\n\n" +
		"The reservation becomes `COMPLETED` and `reservation-completed` opens the trade between the " +
		"seller and the buyer (with its chat room) a moment later: see `GET /api/v1/trades`. The " +
		"product moves to `IN_TRADE`. Applicants still waiting keep their place: if the trade is " +
		"cancelled, the next one becomes the buyer.",
	PathID: "reservationId",
	Errors: []*fault.Error{reservations.ErrNotFound, reservations.ErrForbidden, reservations.ErrClosed},
	Answer: &reservations.Detail{
		ReservationID: uuid.MustParse("7c2e9f14-6a3b-4d58-8e1f-2b9a4c6d0e35"),
		ProductID:     uuid.MustParse("3f6b2c1d-8e4a-4b7f-9c25-6d1e0a9b8c47"),
		Status:        reservations.Completed,
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
		ModifiedAt:  time.Date(2026, 12, 5, 12, 50, 2, 0, time.UTC),
	},
}

func init() {
	registry.HTTP("reservations-complete", "PATCH /api/v1/reservations/{reservationId}/complete", New, spec.Doc())
}

// New builds the handler.
func New(kit *platform.Kit) http.Handler {
	svc := reservations.NewService(kit.DB, kit.Redis, kit.Config.PaymentWindow)
	return endpoint.Handle(kit, spec, func(ctx context.Context, r endpoint.Request[endpoint.None]) (reservations.Detail, error) {
		return svc.Complete(ctx, r.ID, r.Who)
	})
}
