// Package leave is the function reservations-leave: DELETE
// /api/v1/reservations/{reservationId}/application takes the caller's waiting
// application out of the queue; the places behind it move up.
package leave

import (
	"net/http"

	"github.com/8949market/market/shared/api"
	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/fault"
	"github.com/8949market/market/shared/platform"
	"github.com/8949market/market/shared/registry"
	"github.com/8949market/market/shared/reservations"
)

func init() {
	registry.HTTP("reservations-leave", "DELETE /api/v1/reservations/{reservationId}/application", New)
}

// New builds the handler.
func New(kit *platform.Kit) http.Handler {
	lc := reservations.NewLifecycle(kit.DB, reservations.NewQueue(kit.DB, kit.Redis, kit.Config.PaymentWindow))
	read := reservations.NewReader(lc)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		who, ok := auth.FromContext(r.Context())
		if !ok {
			api.Fail(w, r, fault.ErrUnauthenticated)
			return
		}
		id, err := reservations.ParseID(r.PathValue("reservationId"))
		if err != nil {
			api.Fail(w, r, err)
			return
		}
		if err := lc.Leave(r.Context(), id, who); err != nil {
			api.Fail(w, r, err)
			return
		}
		d, err := read.Get(r.Context(), id, who)
		if err != nil {
			api.Fail(w, r, err)
			return
		}
		api.OK(w, r, d)
	})
}
