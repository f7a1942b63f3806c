// Package sweep is the function reservations-sweep, run every minute (Cloud Scheduler on
// GCP, a ticker in make dev): buyers whose payment deadline passed lose their turn to the
// next applicant, deals whose window closed with nobody holding them end
// (reservation-cancelled), a queue left without a buyer gets one, and the admission state
// of open deals is reconciled with Postgres. Reads and writes never wait for it: they
// check deadlines and windows against the clock themselves. Running it twice or
// concurrently changes nothing more.
package sweep

import (
	"log/slog"
	"net/http"

	"github.com/8949market/market/shared/api"
	"github.com/8949market/market/shared/platform"
	"github.com/8949market/market/shared/registry"
	"github.com/8949market/market/shared/reservations"
)

func init() {
	registry.Scheduled("reservations-sweep", "* * * * *", New)
}

// batch bounds one sweep of each kind.
const batch = 500

// New builds the handler.
func New(kit *platform.Kit) http.Handler {
	lc := reservations.NewLifecycle(kit.DB, reservations.NewQueue(kit.DB, kit.Redis, kit.Config.PaymentWindow))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		res, err := lc.Sweep(r.Context(), batch)
		if err != nil {
			api.Fail(w, r, err)
			return
		}
		if res.Expired+res.Ended+res.Promoted+res.Reconciled > 0 {
			slog.InfoContext(r.Context(), "reservations swept", "paymentsExpired", res.Expired, "dealsEnded", res.Ended,
				"repaired", res.Promoted, "reconciled", res.Reconciled)
		}
		api.OK(w, r, res)
	})
}
