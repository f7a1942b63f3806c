// Package cancelbuyer is the function reservations-cancel-buyer: PATCH /api/v1/reservations/{reservationId}/cancel/buyer withdraws the buyer (the buyer or an administrator) with a reason; the next applicant in the queue becomes the buyer, or the deal reopens or ends.
package cancelbuyer

import (
	"context"
	"net/http"

	"github.com/8949market/market/shared/endpoint"
	"github.com/8949market/market/shared/platform"
	"github.com/8949market/market/shared/registry"
	"github.com/8949market/market/shared/reservations"
)

var spec = endpoint.Spec[reservations.Reason, reservations.Detail]{
	PathID: "reservationId",
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
