// Package cancelbuyer is the function reservations-cancel-buyer: PATCH /api/v1/reservations/{reservationId}/cancel/buyer withdraws the buyer (the buyer or an administrator) with a reason; the next applicant in the queue becomes the buyer, or the deal reopens or ends.
package cancelbuyer

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
	registry.HTTP("reservations-cancel-buyer", "PATCH /api/v1/reservations/{reservationId}/cancel/buyer", New)
}

// New builds the handler.
func New(kit *platform.Kit) http.Handler {
	return reservations.ActionHandler(kit, true, func(ctx context.Context, lc *reservations.Lifecycle, id uuid.UUID, who auth.Identity, reason string) error {
		return lc.CancelByBuyer(ctx, id, who, reason)
	})
}
