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

var spec = endpoint.Spec[endpoint.None, trades.Trade]{
	PathID: "tradeId",
}

func init() {
	registry.HTTP("trades-get", "GET /api/v1/trades/{tradeId}", New, spec.Doc())
}

// New builds the handler.
func New(kit *platform.Kit) http.Handler {
	store := trades.NewStore(kit.DB)
	return endpoint.Handle(kit, spec, func(ctx context.Context, r endpoint.Request[endpoint.None]) (trades.Trade, error) {
		return store.Get(ctx, r.ID, r.Who)
	})
}
