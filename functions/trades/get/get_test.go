package get_test

import (
	"net/http"
	"testing"

	"github.com/google/uuid"

	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/devstack/stacktest"
	"github.com/8949market/market/shared/trades"
	"github.com/8949market/market/shared/trades/tradetest"
)

// The route end to end: a party reads the trade, a stranger is T027 (who may read is
// tested in shared/trades); a path id that is not a UUID is C015, an unknown trade T025,
// a call without a token C002.
func TestGet(t *testing.T) {
	t.Parallel()
	st := stacktest.Start(t)
	deal := tradetest.Open(t, st)
	if got := tradetest.MustGet(t, st, deal.ID, deal.Buyer.Token); got.ID != deal.ID || got.ReservationID != deal.ReservationID ||
		got.Status != trades.Trading || got.BuyerID != deal.Buyer.UserID || got.SellerNickname != deal.Seller.Nickname ||
		got.ProductPrice != tradetest.Price || got.CreatedAt.IsZero() {
		t.Fatalf("trade %+v", got)
	}
	user := tradetest.NewUser(t, st, auth.RoleUser)
	tradetest.Get(t, st, deal.ID, user.Token).Refused(t, http.StatusForbidden, "T027")
	for _, bad := range []string{"not-a-uuid", "123", "00000000-0000-0000-0000-00000000000g"} {
		st.Do(t, "GET", "/api/v1/trades/"+bad, nil, user.Token).Refused(t, http.StatusBadRequest, "C015")
	}
	tradetest.Get(t, st, uuid.New(), user.Token).Refused(t, http.StatusNotFound, "T025")
	tradetest.Get(t, st, uuid.New(), tradetest.NewUser(t, st, auth.RoleMaster).Token).Refused(t, http.StatusNotFound, "T025")
	tradetest.Get(t, st, uuid.New(), "").Refused(t, http.StatusUnauthorized, "C002")
}
