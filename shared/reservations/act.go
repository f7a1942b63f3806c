package reservations

import (
	"context"
	"net/http"

	"github.com/google/uuid"

	"github.com/8949market/market/shared/api"
	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/fault"
	"github.com/8949market/market/shared/platform"
)

// Action is one lifecycle step a function performs for the caller on reservation id;
// reason is the request's reason, when the step takes one.
type Action func(ctx context.Context, lc *Lifecycle, id uuid.UUID, who auth.Identity, reason string) error

// ActionHandler is the adapter every reservation action function is: it reads the
// caller and the path's reservation id, and the body {"reason": "..."} when withReason,
// runs act, and answers the reservation as the caller may now see it.
func ActionHandler(kit *platform.Kit, withReason bool, act Action) http.Handler {
	lc := NewLifecycle(kit.DB, NewQueue(kit.DB, kit.Redis, kit.Config.PaymentWindow))
	read := NewReader(lc)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		who, ok := auth.FromContext(r.Context())
		if !ok {
			api.Fail(w, r, fault.ErrUnauthenticated)
			return
		}
		id, err := ParseID(r.PathValue("reservationId"))
		if err != nil {
			api.Fail(w, r, err)
			return
		}
		var req struct {
			Reason *string `json:"reason"`
		}
		if withReason {
			if err := api.Decode(w, r, kit.Config.MaxBodyBytes, &req); err != nil {
				api.Fail(w, r, err)
				return
			}
		}
		why := ""
		if req.Reason != nil {
			why = *req.Reason
		}
		// No catch-up first: each step checks the clock itself, and a catch-up would move
		// the reservation to the next buyer under a request meant for the previous one.
		if err := act(r.Context(), lc, id, who, why); err != nil {
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
