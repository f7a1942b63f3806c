package cancel_test

import (
	"net/http"
	"testing"

	"github.com/google/uuid"

	"github.com/8949market/market/shared/devstack/stacktest"
	"github.com/8949market/market/shared/events"
	"github.com/8949market/market/shared/trades"
	"github.com/8949market/market/shared/trades/tradetest"
)

// The route end to end: the body reaches the rule (its reasons and refusals are tested in
// shared/trades), the cancelled trade is answered and announced; a path id that is not a
// UUID is C015, an unknown trade T025, a call without a token C002.
func TestCancel(t *testing.T) {
	t.Parallel()
	st := stacktest.Start(t)
	deal := tradetest.Open(t, st)

	st.Do(t, "PATCH", tradetest.Path(deal.ID, "/cancel"), map[string]string{}, deal.Buyer.Token).Refused(t, http.StatusBadRequest, "T018")
	got := tradetest.MustCancel(t, st, deal.ID, deal.Seller.Token, "PRODUCT_ISSUE", "  scratched  ")
	if got.ID != deal.ID || got.Status != trades.Cancelled || got.SellerStatus != trades.Cancelled || got.BuyerStatus != trades.Trading {
		t.Fatalf("answer %+v", got)
	}
	evs := tradetest.WantTopics(t, st.Kit.DB, deal.ID, events.TradeCreated, events.TradeCancelled)
	var d events.TradeData
	evs[1].Decode(t, &d)
	if d.TradeID != deal.ID || d.Reason != "seller: PRODUCT_ISSUE (scratched)" {
		t.Fatalf("trade-cancelled %+v", d)
	}
	tradetest.Cancel(t, st, deal.ID, deal.Buyer.Token, "CHANGE_OF_MIND", "").Refused(t, http.StatusConflict, "T026")

	st.Do(t, "PATCH", "/api/v1/trades/not-a-uuid/cancel", tradetest.CancelBody("CHANGE_OF_MIND", ""), deal.Buyer.Token).
		Refused(t, http.StatusBadRequest, "C015")
	tradetest.Cancel(t, st, uuid.New(), deal.Buyer.Token, "CHANGE_OF_MIND", "").Refused(t, http.StatusNotFound, "T025")
	tradetest.Cancel(t, st, deal.ID, "", "CHANGE_OF_MIND", "").Refused(t, http.StatusUnauthorized, "C002")
}
