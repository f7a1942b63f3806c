// Package get is the function reservations-get: GET /api/v1/reservations/{reservationId}
// shows a reservation to its seller, its buyer, anyone who applied (with their own place)
// and administrators, always checked before anything is read out.
package get

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
	registry.HTTP("reservations-get", "GET /api/v1/reservations/{reservationId}", New, spec.Doc())
}

// New builds the handler.
func New(kit *platform.Kit) http.Handler {
	svc := reservations.NewService(kit.DB, kit.Redis, kit.Config.PaymentWindow)
	return endpoint.Handle(kit, spec, func(ctx context.Context, r endpoint.Request[endpoint.None]) (reservations.Detail, error) {
		return svc.Get(ctx, r.ID, r.Who)
	})
}
