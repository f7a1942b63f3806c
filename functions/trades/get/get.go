// Package get is the function trades-get: GET /api/v1/trades/{tradeId} shows a trade to its buyer, its seller and administrators only.
package get

import (
	"context"
	"net/http"

	"github.com/8949market/market/shared/endpoint"
	"github.com/8949market/market/shared/platform"
	"github.com/8949market/market/shared/registry"
	"github.com/8949market/market/shared/trades"
)

func init() {
	registry.HTTP("trades-get", "GET /api/v1/trades/{tradeId}", New)
}

// New builds the handler.
func New(kit *platform.Kit) http.Handler {
	store := trades.NewStore(kit.DB)
	return endpoint.Handle(kit, func(ctx context.Context, r endpoint.Request[endpoint.None]) (trades.Trade, error) {
		return store.Get(ctx, r.ID, r.Who)
	}, endpoint.PathID("tradeId"))
}
