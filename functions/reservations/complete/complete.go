// Package complete is the function reservations-complete: PATCH /api/v1/reservations/{reservationId}/complete hands a paid reservation to its trade (the seller or an administrator); reservation-completed opens the trade.
package complete

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
	registry.HTTP("reservations-complete", "PATCH /api/v1/reservations/{reservationId}/complete", New, spec.Doc())
}

// New builds the handler.
func New(kit *platform.Kit) http.Handler {
	svc := reservations.NewService(kit.DB, kit.Redis, kit.Config.PaymentWindow)
	return endpoint.Handle(kit, spec, func(ctx context.Context, r endpoint.Request[endpoint.None]) (reservations.Detail, error) {
		return svc.Complete(ctx, r.ID, r.Who)
	})
}
