// Package complete is the function trades-complete: PATCH /api/v1/trades/{tradeId}/complete records the caller's completion (the buyer or the seller); the second completes the trade and announces trade-completed.
package complete

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
	registry.HTTP("trades-complete", "PATCH /api/v1/trades/{tradeId}/complete", New)
}

// New builds the handler.
func New(kit *platform.Kit) http.Handler {
	return trades.Handler(kit, false, func(ctx context.Context, s *trades.Store, id uuid.UUID, who auth.Identity, _ struct{}) (trades.Trade, error) {
		return s.Complete(ctx, id, who)
	})
}
