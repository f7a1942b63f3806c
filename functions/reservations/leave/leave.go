// Package leave is the function reservations-leave: DELETE /api/v1/reservations/{reservationId}/application takes the caller's waiting application out of the queue; the places behind it move up.
package leave

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
	registry.HTTP("reservations-leave", "DELETE /api/v1/reservations/{reservationId}/application", New)
}

// New builds the handler.
func New(kit *platform.Kit) http.Handler {
	return reservations.ActionHandler(kit, false, func(ctx context.Context, lc *reservations.Lifecycle, id uuid.UUID, who auth.Identity, reason string) error {
		return lc.Leave(ctx, id, who)
	})
}
