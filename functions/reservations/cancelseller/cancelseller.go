// Package cancelseller is the function reservations-cancel-seller: PATCH /api/v1/reservations/{reservationId}/cancel/seller ends the reservation before its trade (the seller or an administrator) with a reason; the queue is released and reservation-cancelled tells the product.
package cancelseller

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
	registry.HTTP("reservations-cancel-seller", "PATCH /api/v1/reservations/{reservationId}/cancel/seller", New, spec.Doc())
}

// New builds the handler.
func New(kit *platform.Kit) http.Handler {
	svc := reservations.NewService(kit.DB, kit.Redis, kit.Config.PaymentWindow)
	return endpoint.Handle(kit, spec, func(ctx context.Context, r endpoint.Request[reservations.Reason]) (reservations.Detail, error) {
		return svc.CancelBySeller(ctx, r.ID, r.Who, r.Body)
	})
}
