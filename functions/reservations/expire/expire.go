// Package expire is the function reservations-expire: PATCH /api/v1/reservations/{reservationId}/expire ends the buyer's turn to pay now (administrators), as the payment deadline would; the next applicant is promoted.
package expire

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
	registry.HTTP("reservations-expire", "PATCH /api/v1/reservations/{reservationId}/expire", New)
}

type request struct {
	Reason *string `json:"reason"`
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
		var req request
		if err := api.Decode(w, r, kit.Config.MaxBodyBytes, &req); err != nil {
			api.Fail(w, r, err)
			return
		}
		why := ""
		if req.Reason != nil {
			why = *req.Reason
		}
		if err := lc.ExpirePayment(r.Context(), id, &who, why); err != nil {
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
