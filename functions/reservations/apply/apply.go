// Package apply is the function reservations-apply: PATCH /api/v1/reservations/{reservationId}
// applies the caller to a time deal. Inside the window the first applicant becomes the
// buyer (SELECTED, with a payment deadline) and every later one queues (WAITING, with its
// place); outside it the answer is 409 R012 (not open yet) or R013 (ended). A second
// application is 409 R008; the seller cannot apply (403 R014).
package apply

import (
	"net/http"

	"github.com/google/uuid"

	"github.com/8949market/market/shared/api"
	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/fault"
	"github.com/8949market/market/shared/platform"
	"github.com/8949market/market/shared/registry"
	"github.com/8949market/market/shared/reservations"
)

func init() {
	registry.HTTP("reservations-apply", "PATCH /api/v1/reservations/{reservationId}", New)
}

// New builds the handler.
func New(kit *platform.Kit) http.Handler {
	q := reservations.NewQueue(kit.DB, kit.Redis, kit.Config.PaymentWindow)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		who, ok := auth.FromContext(r.Context())
		if !ok {
			api.Fail(w, r, fault.ErrUnauthenticated)
			return
		}
		id, err := uuid.Parse(r.PathValue("reservationId"))
		if err != nil {
			api.Fail(w, r, fault.ErrBadParameter.WithMessage("reservationId must be a UUID").OnField("reservationId"))
			return
		}
		app, err := q.Apply(r.Context(), id, reservations.Applicant{UserID: who.UserID, Nickname: who.Nickname})
		if err != nil {
			api.Fail(w, r, err)
			return
		}
		api.OK(w, r, app)
	})
}
