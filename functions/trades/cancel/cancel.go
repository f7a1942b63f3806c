// Package cancel is the function trades-cancel: PATCH /api/v1/trades/{tradeId}/cancel ends a trading trade with {cancelReasonType, cancelReasonDetail}, a reason valid for the caller's side (ETC needs a detail); trade-cancelled lets the reservation move on.
package cancel

import (
	"context"
	"net/http"

	"github.com/8949market/market/shared/endpoint"
	"github.com/8949market/market/shared/platform"
	"github.com/8949market/market/shared/registry"
	"github.com/8949market/market/shared/trades"
)

var spec = endpoint.Spec[trades.Cancellation, trades.Trade]{
	PathID: "tradeId",
}

func init() {
	registry.HTTP("trades-cancel", "PATCH /api/v1/trades/{tradeId}/cancel", New, spec.Doc())
}

// New builds the handler.
func New(kit *platform.Kit) http.Handler {
	store := trades.NewStore(kit.DB)
	return endpoint.Handle(kit, spec, func(ctx context.Context, r endpoint.Request[trades.Cancellation]) (trades.Trade, error) {
		return trades.Cancel(ctx, store, r.ID, r.Who, r.Body)
	})
}
