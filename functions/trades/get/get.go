// Package get is the function trades-get: GET /api/v1/trades/{tradeId} shows a trade to its buyer, its seller and administrators only.
package get

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
	registry.HTTP("trades-get", "GET /api/v1/trades/{tradeId}", New)
}

// New builds the handler.
func New(kit *platform.Kit) http.Handler {
	return trades.Handler(kit, false, func(ctx context.Context, s *trades.Store, id uuid.UUID, who auth.Identity, _ struct{}) (trades.Trade, error) {
		return s.Get(ctx, id, who)
	})
}
