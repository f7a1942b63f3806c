package complete_test

import (
	"net/http"
	"testing"

	"github.com/google/uuid"

	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/devstack/stacktest"
	"github.com/8949market/market/shared/events"
	"github.com/8949market/market/shared/trades"
	"github.com/8949market/market/shared/trades/tradetest"
)

// The route end to end: each party's completion is answered, the second completes the
// trade and announces trade-completed (the rules, refusals and the race with a
// cancellation are tested in shared/trades); a path id that is not a UUID is C015, an
// unknown trade T025, a call without a token C002.
func TestComplete(t *testing.T) {
	t.Parallel()
	st := stacktest.Start(t)
	deal := tradetest.Open(t, st)

	if got := tradetest.MustComplete(t, st, deal.ID, deal.Buyer.Token); got.Status != trades.Trading || got.BuyerStatus != trades.Completed {
		t.Fatalf("after the buyer: %+v", got)
	}
	tradetest.Complete(t, st, deal.ID, deal.Buyer.Token).Refused(t, http.StatusConflict, "T029")
	if got := tradetest.MustComplete(t, st, deal.ID, deal.Seller.Token); got.Status != trades.Completed || got.SellerStatus != trades.Completed {
		t.Fatalf("after both: %+v", got)
	}
	tradetest.WantTopics(t, st.Kit.DB, deal.ID, events.TradeCreated, events.TradeCompleted)

	user := tradetest.NewUser(t, st, auth.RoleUser)
	st.Do(t, "PATCH", "/api/v1/trades/not-a-uuid/complete", nil, user.Token).Refused(t, http.StatusBadRequest, "C015")
	tradetest.Complete(t, st, uuid.New(), user.Token).Refused(t, http.StatusNotFound, "T025")
	tradetest.Complete(t, st, uuid.New(), "").Refused(t, http.StatusUnauthorized, "C002")
}
