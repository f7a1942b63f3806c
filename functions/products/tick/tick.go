// Package tick is the function products-tick, run every minute (Cloud Scheduler on GCP, a
// ticker in make dev): it moves the status columns the clock has overtaken — deals whose
// window opened to RESERVING, deals whose window closed with no buyer to EXPIRED — and
// announces each move with product-updated. Reads never wait for it: every answer
// reports the effective state from the clock. Running it twice, late or concurrently
// moves each product once.
package tick

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/8949market/market/shared/api"
	"github.com/8949market/market/shared/platform"
	"github.com/8949market/market/shared/products"
	"github.com/8949market/market/shared/registry"
)

func init() {
	registry.Scheduled("products-tick", "* * * * *", New)
}

// batch bounds one transaction of the tick.
const batch = 500

// New builds the handler.
func New(kit *platform.Kit) http.Handler {
	store := products.NewStore(kit.DB)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		res, err := store.Tick(r.Context(), time.Now(), batch)
		if err != nil {
			api.Fail(w, r, err)
			return
		}
		if res.Opened+res.Expired > 0 {
			slog.InfoContext(r.Context(), "products ticked", "opened", res.Opened, "expired", res.Expired)
		}
		api.OK(w, r, res)
	})
}
