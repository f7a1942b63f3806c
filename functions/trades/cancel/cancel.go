// Package cancel is the function trades-cancel: PATCH /api/v1/trades/{tradeId}/cancel ends a trading trade with {cancelReasonType, cancelReasonDetail}, a reason valid for the caller's side (ETC needs a detail); trade-cancelled lets the reservation move on.
package cancel

import (
	"context"
	"net/http"

	"github.com/google/uuid"

	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/platform"
	"github.com/8949market/market/shared/registry"
	"github.com/8949market/market/shared/trades"
)

func init() {
	registry.HTTP("trades-cancel", "PATCH /api/v1/trades/{tradeId}/cancel", New)
}

// New builds the handler.
func New(kit *platform.Kit) http.Handler {
	return trades.Handler(kit, true, func(ctx context.Context, s *trades.Store, id uuid.UUID, who auth.Identity, req trades.CancelRequest) (trades.Trade, error) {
		var reason, detail string
		if req.CancelReasonType != nil {
			reason = *req.CancelReasonType
		}
		if req.CancelReasonDetail != nil {
			detail = *req.CancelReasonDetail
		}
		return s.Cancel(ctx, id, who, reason, detail)
	})
}
