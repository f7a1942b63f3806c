// Package complete is the function trades-complete: PATCH /api/v1/trades/{tradeId}/complete records the caller's completion (the buyer or the seller); the second completes the trade and announces trade-completed.
package complete

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
	registry.HTTP("trades-complete", "PATCH /api/v1/trades/{tradeId}/complete", New, spec.Doc())
}

// New builds the handler.
func New(kit *platform.Kit) http.Handler {
	store := trades.NewStore(kit.DB)
	return endpoint.Handle(kit, spec, func(ctx context.Context, r endpoint.Request[endpoint.None]) (trades.Trade, error) {
		return trades.Complete(ctx, store, r.ID, r.Who)
	})
}
