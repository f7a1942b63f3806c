// Package paymentconfirm is the function reservations-payment-confirm: PATCH /api/v1/reservations/{reservationId}/paymentconfirm records the buyer's payment (administrators: there is no payment service yet).
package paymentconfirm

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
	registry.HTTP("reservations-payment-confirm", "PATCH /api/v1/reservations/{reservationId}/paymentconfirm", New)
}

// New builds the handler.
func New(kit *platform.Kit) http.Handler {
	return reservations.ActionHandler(kit, false, func(ctx context.Context, lc *reservations.Lifecycle, id uuid.UUID, who auth.Identity, reason string) error {
		return lc.ConfirmPayment(ctx, id, who)
	})
}
