// Package tick is the function products-tick, run every minute (Cloud Scheduler on GCP, a
// ticker in make dev): it moves the status columns the clock has overtaken — deals whose
// window opened to RESERVING, deals whose window closed with no buyer to EXPIRED — and
// announces each move with product-updated (products.Store.Tick). Reads never wait for
// it: every answer reports the effective state from the clock. Running it twice, late or
// concurrently moves each product once.
package tick

import (
	"context"
	"net/http"
	"time"

	"github.com/8949market/market/shared/endpoint"
	"github.com/8949market/market/shared/platform"
	"github.com/8949market/market/shared/products"
	"github.com/8949market/market/shared/registry"
)

var spec = endpoint.Spec[endpoint.None, products.TickResult]{
	Public: true,
}

func init() {
	registry.Scheduled("products-tick", "* * * * *", New)
}

// batch bounds one transaction of the tick.
const batch = 500

// New builds the handler. The scheduler's push authentication, not a user token, admits
// the call (registry), so the endpoint is Public to endpoint.Handle.
func New(kit *platform.Kit) http.Handler {
	store := products.NewStore(kit.DB)
	return endpoint.Handle(kit, spec, func(ctx context.Context, _ endpoint.Request[endpoint.None]) (products.TickResult, error) {
		return store.Tick(ctx, time.Now(), batch)
	})
}
