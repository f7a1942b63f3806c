// Package complete is the function reservations-complete: PATCH /api/v1/reservations/{reservationId}/complete hands a paid reservation to its trade (the seller or an administrator); reservation-completed opens the trade.
package complete

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
	registry.HTTP("reservations-complete", "PATCH /api/v1/reservations/{reservationId}/complete", New)
}

// New builds the handler.
func New(kit *platform.Kit) http.Handler {
	return reservations.ActionHandler(kit, false, func(ctx context.Context, lc *reservations.Lifecycle, id uuid.UUID, who auth.Identity, reason string) error {
		return lc.Complete(ctx, id, who)
	})
}
