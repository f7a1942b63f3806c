// Package expire is the function reservations-expire: PATCH /api/v1/reservations/{reservationId}/expire ends the buyer's turn to pay now (administrators), as the payment deadline would; the next applicant is promoted.
package expire

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
	registry.HTTP("reservations-expire", "PATCH /api/v1/reservations/{reservationId}/expire", New, spec.Doc())
}

// New builds the handler.
func New(kit *platform.Kit) http.Handler {
	svc := reservations.NewService(kit.DB, kit.Redis, kit.Config.PaymentWindow)
	return endpoint.Handle(kit, spec, func(ctx context.Context, r endpoint.Request[reservations.Reason]) (reservations.Detail, error) {
		return svc.Expire(ctx, r.ID, r.Who, r.Body)
	})
}
