// Package list is the function trades-list: GET /api/v1/trades lists the trades the
// caller is a party to (administrators: all), newest first; status (TRADING, COMPLETED,
// CANCELLED) and role (BUYER, SELLER) filter; size and cursor page.
package list

import (
	"context"
	"net/http"

	"github.com/8949market/market/shared/endpoint"
	"github.com/8949market/market/shared/page"
	"github.com/8949market/market/shared/platform"
	"github.com/8949market/market/shared/registry"
	"github.com/8949market/market/shared/trades"
)

var spec = endpoint.Spec[endpoint.None, page.Page[trades.Trade]]{}

func init() {
	registry.HTTP("trades-list", "GET /api/v1/trades", New, spec.Doc())
}

// New builds the handler.
func New(kit *platform.Kit) http.Handler {
	store := trades.NewStore(kit.DB)
	return endpoint.Handle(kit, spec, func(ctx context.Context, r endpoint.Request[endpoint.None]) (page.Page[trades.Trade], error) {
		return trades.List(ctx, store, r.Who, r.Query)
	})
}
