package get_test

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

// The buyer, the seller and administrators read a trade; a stranger can neither read it
// nor complete nor cancel it (T027), and nothing changes.
func TestGetAccess(t *testing.T) {
	t.Parallel()
	st := stacktest.Start(t)
	deal := tradetest.Open(t, st)

	for _, who := range []tradetest.User{deal.Buyer, deal.Seller,
		tradetest.NewUser(t, st, auth.RoleManager), tradetest.NewUser(t, st, auth.RoleMaster)} {
		got := tradetest.MustGet(t, st, deal.ID, who.Token)
		if got.ID != deal.ID || got.ReservationID != deal.ReservationID || got.ProductID != deal.ProductID ||
			got.Status != trades.Trading || got.BuyerStatus != trades.Trading || got.SellerStatus != trades.Trading ||
			got.BuyerID != deal.Buyer.UserID || got.BuyerNickname != deal.Buyer.Nickname ||
			got.SellerID != deal.Seller.UserID || got.SellerNickname != deal.Seller.Nickname ||
			got.ProductPrice != tradetest.Price || got.ChatRoomID != nil || got.CreatedAt.IsZero() {
			t.Fatalf("trade as %s: %+v", who.Role, got)
		}
	}

	stranger := tradetest.NewUser(t, st, auth.RoleUser)
	tradetest.Get(t, st, deal.ID, stranger.Token).Refused(t, http.StatusForbidden, "T027")
	tradetest.Complete(t, st, deal.ID, stranger.Token).Refused(t, http.StatusForbidden, "T027")
	for _, reason := range []string{"CHANGE_OF_MIND", "REFUND_REQUEST", "PRODUCT_ISSUE", "POLICY_VIOLATION"} {
		tradetest.Cancel(t, st, deal.ID, stranger.Token, reason, "").Refused(t, http.StatusForbidden, "T027")
	}
	tradetest.Cancel(t, st, deal.ID, stranger.Token, "ETC", "mine now").Refused(t, http.StatusForbidden, "T027")
	if got := tradetest.Read(t, st, deal.ID); got.Status != trades.Trading || got.BuyerStatus != trades.Trading ||
		got.SellerStatus != trades.Trading || got.Version != 0 {
		t.Fatalf("after the stranger: %+v", got)
	}
	if h := tradetest.History(t, st, deal.ID); len(h) != 1 {
		t.Fatalf("history %+v after the stranger", h)
	}
	tradetest.WantTopics(t, st, deal.ID, events.TradeCreated)

	// A closed trade is still readable by its parties only.
	tradetest.MustComplete(t, st, deal.ID, deal.Buyer.Token)
	tradetest.MustComplete(t, st, deal.ID, deal.Seller.Token)
	if got := tradetest.MustGet(t, st, deal.ID, deal.Buyer.Token); got.Status != trades.Completed {
		t.Fatalf("completed trade reads %s", got.Status)
	}
	tradetest.Get(t, st, deal.ID, stranger.Token).Refused(t, http.StatusForbidden, "T027")
}

func TestGetBadInput(t *testing.T) {
	t.Parallel()
	st := stacktest.Start(t)
	user := tradetest.NewUser(t, st, auth.RoleUser)
	admin := tradetest.NewUser(t, st, auth.RoleMaster)
	for _, bad := range []string{"not-a-uuid", "123", "00000000-0000-0000-0000-00000000000g"} {
		st.Do(t, "GET", "/api/v1/trades/"+bad, nil, user.Token).Refused(t, http.StatusBadRequest, "C015")
	}
	tradetest.Get(t, st, uuid.New(), user.Token).Refused(t, http.StatusNotFound, "T025")
	tradetest.Get(t, st, uuid.New(), admin.Token).Refused(t, http.StatusNotFound, "T025")
	tradetest.Get(t, st, uuid.New(), "").Refused(t, http.StatusUnauthorized, "C002")
}
