// Package cancelseller is the function reservations-cancel-seller: PATCH /api/v1/reservations/{reservationId}/cancel/seller ends the reservation before its trade (the seller or an administrator) with a reason; the queue is released and reservation-cancelled tells the product.
package cancelseller

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
	registry.HTTP("reservations-cancel-seller", "PATCH /api/v1/reservations/{reservationId}/cancel/seller", New)
}

// New builds the handler.
func New(kit *platform.Kit) http.Handler {
	return reservations.ActionHandler(kit, true, func(ctx context.Context, lc *reservations.Lifecycle, id uuid.UUID, who auth.Identity, reason string) error {
		return lc.CancelBySeller(ctx, id, who, reason)
	})
}
