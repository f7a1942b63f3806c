// Package sweep is the function reservations-sweep, run every minute (Cloud Scheduler on
// GCP, a ticker in make dev): buyers whose payment deadline passed lose their turn to the
// next applicant, deals whose window closed with nobody holding them end
// (reservation-cancelled), a queue left without a buyer gets one, and the admission state
// of open deals is reconciled with Postgres. Reads and writes never wait for it: they
// check deadlines and windows against the clock themselves. Running it twice or
// concurrently changes nothing more.
package sweep

import (
	"context"
	"net/http"

	"github.com/8949market/market/shared/endpoint"
	"github.com/8949market/market/shared/platform"
	"github.com/8949market/market/shared/registry"
	"github.com/8949market/market/shared/reservations"
)

var spec = endpoint.Spec[endpoint.None, reservations.SweepResult]{
	Public: true,
}

func init() {
	registry.Scheduled("reservations-sweep", "* * * * *", New)
}

// batch bounds one sweep of each kind.
const batch = 500

// New builds the handler. The scheduler calls it with no caller: it is an internal
// endpoint, its caller verified by the push credential.
func New(kit *platform.Kit) http.Handler {
	lc := reservations.NewLifecycle(kit.DB, kit.Redis, kit.Config.PaymentWindow)
	return endpoint.Handle(kit, spec, func(ctx context.Context, _ endpoint.Request[endpoint.None]) (reservations.SweepResult, error) {
		return lc.Sweep(ctx, batch)
	})
}
