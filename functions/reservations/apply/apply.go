// Package apply is the function reservations-apply: PATCH /api/v1/reservations/{reservationId}
// applies the caller to a time deal. Inside the window the first applicant becomes the
// buyer (SELECTED, with a payment deadline) and every later one queues (WAITING, with its
// place); outside it the answer is 409 R012 (not open yet) or R013 (ended). A second
// application is 409 R008; the seller cannot apply (403 R014).
package apply

import (
	"context"
	"net/http"

	"github.com/8949market/market/shared/endpoint"
	"github.com/8949market/market/shared/platform"
	"github.com/8949market/market/shared/registry"
	"github.com/8949market/market/shared/reservations"
)

var spec = endpoint.Spec[endpoint.None, reservations.Application]{
	PathID: "reservationId",
}

func init() {
	registry.HTTP("reservations-apply", "PATCH /api/v1/reservations/{reservationId}", New, spec.Doc())
}

// New builds the handler.
func New(kit *platform.Kit) http.Handler {
	svc := reservations.NewService(kit.DB, kit.Redis, kit.Config.PaymentWindow)
	return endpoint.Handle(kit, spec, func(ctx context.Context, r endpoint.Request[endpoint.None]) (reservations.Application, error) {
		return svc.Apply(ctx, r.ID, r.Who)
	})
}
