// Package leave is the function reservations-leave: DELETE /api/v1/reservations/{reservationId}/application takes the caller's waiting application out of the queue; the places behind it move up.
package leave

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
	Summary: "Leave the queue",
	Description: "Takes the caller's own application out of the queue; the applicants behind it move " +
		"up one place. Only a `WAITING` application can leave: a caller who has not applied, has left " +
		"already, or is the buyer (`SELECTED`; withdraw with " +
		"`PATCH /api/v1/reservations/{reservationId}/cancel/buyer`) gets 409 `R003`.\n\n" +
		"The answer is the reservation as the caller now sees it, with `myApplication` `LEFT`. A user " +
		"who left cannot apply again (409 `R008`).",
	PathID: "reservationId",
	Errors: []*fault.Error{reservations.ErrNotFound, reservations.ErrNotApplied},
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
			Status: "LEFT", AppliedAt: time.Date(2026, 12, 5, 12, 0, 0, 904000000, time.UTC),
		},
		CreatedAt:  time.Date(2026, 12, 1, 10, 0, 1, 0, time.UTC),
		ModifiedAt: time.Date(2026, 12, 5, 12, 0, 0, 183000000, time.UTC),
	},
}

func init() {
	registry.HTTP("reservations-leave", "DELETE /api/v1/reservations/{reservationId}/application", New, spec.Doc())
}

// New builds the handler.
func New(kit *platform.Kit) http.Handler {
	svc := reservations.NewService(kit.DB, kit.Redis, kit.Config.PaymentWindow)
	return endpoint.Handle(kit, spec, func(ctx context.Context, r endpoint.Request[endpoint.None]) (reservations.Detail, error) {
		return svc.Leave(ctx, r.ID, r.Who)
	})
}
