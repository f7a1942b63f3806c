// Package leave is the function reservations-leave: DELETE /api/v1/reservations/{reservationId}/application takes the caller's waiting application out of the queue; the places behind it move up.
package leave

import (
	"context"
	"net/http"

	"github.com/8949market/market/shared/endpoint"
	"github.com/8949market/market/shared/platform"
	"github.com/8949market/market/shared/registry"
	"github.com/8949market/market/shared/reservations"
)

var spec = endpoint.Spec[endpoint.None, reservations.Detail]{
	PathID: "reservationId",
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
