// Package get is the function reservations-get: GET /api/v1/reservations/{reservationId}
// shows a reservation to its seller, its buyer, anyone who applied (with their own place)
// and administrators, always checked before anything is read out.
package get

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
	registry.HTTP("reservations-get", "GET /api/v1/reservations/{reservationId}", New)
}

// New builds the handler.
func New(kit *platform.Kit) http.Handler {
	read := reservations.NewReader(reservations.NewLifecycle(kit.DB, reservations.NewQueue(kit.DB, kit.Redis, kit.Config.PaymentWindow)))
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
		d, err := read.Get(r.Context(), id, who)
		if err != nil {
			api.Fail(w, r, err)
			return
		}
		api.OK(w, r, d)
	})
}
