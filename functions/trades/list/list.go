// Package list is the function trades-list: GET /api/v1/trades lists the trades the
// caller is a party to (administrators: all), newest first; status (TRADING, COMPLETED,
// CANCELLED) and role (BUYER, SELLER) filter; size and cursor page.
package list

import (
	"net/http"

	"github.com/8949market/market/shared/api"
	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/fault"
	"github.com/8949market/market/shared/page"
	"github.com/8949market/market/shared/platform"
	"github.com/8949market/market/shared/registry"
	"github.com/8949market/market/shared/trades"
)

func init() {
	registry.HTTP("trades-list", "GET /api/v1/trades", New)
}

// New builds the handler.
func New(kit *platform.Kit) http.Handler {
	store := trades.NewStore(kit.DB)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		who, ok := auth.FromContext(r.Context())
		if !ok {
			api.Fail(w, r, fault.ErrUnauthenticated)
			return
		}
		q := r.URL.Query()
		f, err := trades.ParseFilter(q.Get("status"), q.Get("role"))
		if err != nil {
			api.Fail(w, r, err)
			return
		}
		size, err := page.Size(r, 20, 100)
		if err != nil {
			api.Fail(w, r, err)
			return
		}
		p, err := store.List(r.Context(), who, f, size, q.Get("cursor"))
		if err != nil {
			api.Fail(w, r, err)
			return
		}
		api.OK(w, r, p)
	})
}
