package trades

import (
	"context"
	"net/http"

	"github.com/google/uuid"

	"github.com/8949market/market/shared/api"
	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/fault"
	"github.com/8949market/market/shared/platform"
)

// Handler is the adapter the single-trade functions share: it reads the caller and the
// path's trade id and, when withBody, the JSON body as Req; runs do; and answers the
// trade.
func Handler[Req any](kit *platform.Kit, withBody bool,
	do func(ctx context.Context, s *Store, id uuid.UUID, who auth.Identity, req Req) (Trade, error)) http.Handler {
	store := NewStore(kit.DB)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		who, ok := auth.FromContext(r.Context())
		if !ok {
			api.Fail(w, r, fault.ErrUnauthenticated)
			return
		}
		id, err := ParseID(r.PathValue("tradeId"))
		if err != nil {
			api.Fail(w, r, err)
			return
		}
		var req Req
		if withBody {
			if err := api.Decode(w, r, kit.Config.MaxBodyBytes, &req); err != nil {
				api.Fail(w, r, err)
				return
			}
		}
		t, err := do(r.Context(), store, id, who, req)
		if err != nil {
			api.Fail(w, r, err)
			return
		}
		api.OK(w, r, t)
	})
}

// CancelRequest is the body of a cancellation.
type CancelRequest struct {
	CancelReasonType   *string `json:"cancelReasonType"`
	CancelReasonDetail *string `json:"cancelReasonDetail"`
}
