// Package paymentconfirm is the function reservations-payment-confirm: PATCH /api/v1/reservations/{reservationId}/paymentconfirm records the buyer's payment (administrators: there is no payment service yet).
package paymentconfirm

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
	registry.HTTP("reservations-payment-confirm", "PATCH /api/v1/reservations/{reservationId}/paymentconfirm", New, spec.Doc())
}

// New builds the handler.
func New(kit *platform.Kit) http.Handler {
	svc := reservations.NewService(kit.DB, kit.Redis, kit.Config.PaymentWindow)
	return endpoint.Handle(kit, spec, func(ctx context.Context, r endpoint.Request[endpoint.None]) (reservations.Detail, error) {
		return svc.ConfirmPayment(ctx, r.ID, r.Who)
	})
}
