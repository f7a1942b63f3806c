// Package expire is the function reservations-expire: PATCH /api/v1/reservations/{reservationId}/expire ends the buyer's turn to pay now (administrators), as the payment deadline would; the next applicant is promoted.
package expire

import (
	"context"
	"net/http"

	"github.com/google/uuid"

	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/platform"
	"github.com/8949market/market/shared/registry"
	"github.com/8949market/market/shared/reservations"
)

func init() {
	registry.HTTP("reservations-expire", "PATCH /api/v1/reservations/{reservationId}/expire", New)
}

// New builds the handler.
func New(kit *platform.Kit) http.Handler {
	return reservations.ActionHandler(kit, true, func(ctx context.Context, lc *reservations.Lifecycle, id uuid.UUID, who auth.Identity, reason string) error {
		return lc.ExpirePayment(ctx, id, &who, reason)
	})
}
