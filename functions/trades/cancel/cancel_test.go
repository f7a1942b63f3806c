package cancel_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/devstack/stacktest"
	"github.com/8949market/market/shared/events"
	"github.com/8949market/market/shared/trades"
	"github.com/8949market/market/shared/trades/tradetest"
)

// allowed is, for each cancel reason, the sides that may give it (reference 7.1; an
// administrator who is not a party acts for the system).
var allowed = map[string][]trades.Side{
	"CHANGE_OF_MIND":         {trades.Buyer, trades.Seller},
	"SCHEDULE_CONFLICT":      {trades.Buyer, trades.Seller},
	"ETC":                    {trades.Buyer, trades.Seller},
	"PRODUCT_ISSUE":          {trades.Seller},
	"DUPLICATE_REGISTRATION": {trades.Seller},
	"REFUND_REQUEST":         {trades.Buyer},
	"POLICY_VIOLATION":       {trades.Admin},
}

func may(reason string, side trades.Side) bool {
	for _, s := range allowed[reason] {
		if s == side {
			return true
		}
	}
	return false
}

// Every reason by every side: an allowed one cancels the trade, records who cancelled on
// which side and why, and announces trade-cancelled with the reason; a refused one is
// T020 and writes nothing.
func TestCancelReasons(t *testing.T) {
	t.Parallel()
	st := stacktest.Start(t)
	for reason := range allowed {
		for _, side := range []trades.Side{trades.Buyer, trades.Seller, trades.Admin} {
			t.Run(reason+" by "+string(side), func(t *testing.T) {
				t.Parallel()
				deal := tradetest.Open(t, st)
				caller := deal.Buyer
				switch side {
				case trades.Seller:
					caller = deal.Seller
				case trades.Admin:
					caller = tradetest.NewUser(t, st, auth.RoleManager)
				}
				detail := ""
				if reason == "ETC" || side == trades.Seller {
					detail = "  details from the " + strings.ToLower(string(side)) + "  "
				}
				res := tradetest.Cancel(t, st, deal.ID, caller.Token, reason, detail)

				if !may(reason, side) {
					res.Refused(t, http.StatusBadRequest, "T020")
					if got := tradetest.Read(t, st, deal.ID); got.Status != trades.Trading || got.BuyerStatus != trades.Trading ||
						got.SellerStatus != trades.Trading || got.Version != 0 {
						t.Fatalf("after a refused reason: %+v", got)
					}
					if h := tradetest.History(t, st, deal.ID); len(h) != 1 {
						t.Fatalf("history %+v after a refused reason, want the creation only", h)
					}
					tradetest.WantTopics(t, st, deal.ID, events.TradeCreated)
					return
				}

				if res.Status != http.StatusOK {
					t.Fatalf("status %d: %s", res.Status, res.Body)
				}
				var got trades.Trade
				res.Data(t, &got)
				wantBuyer, wantSeller := trades.Trading, trades.Trading
				switch side {
				case trades.Buyer:
					wantBuyer = trades.Cancelled
				case trades.Seller:
					wantSeller = trades.Cancelled
				}
				if got.ID != deal.ID || got.Status != trades.Cancelled || got.BuyerStatus != wantBuyer || got.SellerStatus != wantSeller {
					t.Fatalf("answer %+v, want CANCELLED with buyer %s seller %s", got, wantBuyer, wantSeller)
				}
				if stored := tradetest.Read(t, st, deal.ID); stored.Status != trades.Cancelled || stored.Version != got.Version {
					t.Fatalf("stored %+v, answered %+v", stored, got)
				}

				wantDetail := strings.TrimSpace(detail)
				h := tradetest.History(t, st, deal.ID)
				if len(h) != 2 {
					t.Fatalf("history %+v, want creation and cancellation", h)
				}
				c := h[1]
				if c.From == nil || *c.From != "TRADING" || c.To != "CANCELLED" ||
					c.ActorID == nil || *c.ActorID != caller.UserID || c.ActorSide == nil || *c.ActorSide != string(side) ||
					c.ReasonType == nil || *c.ReasonType != reason {
					t.Fatalf("cancellation history %+v", c)
				}
				switch {
				case wantDetail == "" && c.ReasonDetail != nil:
					t.Fatalf("reason detail %q, want none", *c.ReasonDetail)
				case wantDetail != "" && (c.ReasonDetail == nil || *c.ReasonDetail != wantDetail):
					t.Fatalf("reason detail %v, want %q", c.ReasonDetail, wantDetail)
				}

				evs := tradetest.WantTopics(t, st, deal.ID, events.TradeCreated, events.TradeCancelled)
				d := evs[1].Trade(t)
				if d.TradeID != deal.ID || d.ReservationID != deal.ReservationID || d.ProductID != deal.ProductID ||
					d.BuyerID != deal.Buyer.UserID || d.SellerID != deal.Seller.UserID {
					t.Fatalf("trade-cancelled %+v", d)
				}
				if !strings.Contains(d.Reason, reason) || (wantDetail != "" && !strings.Contains(d.Reason, wantDetail)) {
					t.Fatalf("trade-cancelled reason %q, want it to name %s and %q", d.Reason, reason, wantDetail)
				}

				// Once cancelled, nobody cancels it again.
				tradetest.Cancel(t, st, deal.ID, caller.Token, reason, detail).Refused(t, http.StatusConflict, "T026")
				if n := len(tradetest.Events(t, st, deal.ID)); n != 2 {
					t.Fatalf("%d events after a second cancellation", n)
				}
			})
		}
	}
}

// The reason is checked before anything is written: missing (T018), unknown (T021), ETC
// without a detail (T019); a closed trade is T026; strangers T027.
func TestCancelRefusals(t *testing.T) {
	t.Parallel()
	st := stacktest.Start(t)
	deal := tradetest.Open(t, st)
	path := tradetest.Path(deal.ID, "/cancel")
	for _, c := range []struct {
		name   string
		body   any
		status int
		code   string
	}{
		{"no body fields", map[string]string{}, http.StatusBadRequest, "T018"},
		{"empty reason", map[string]string{"cancelReasonType": ""}, http.StatusBadRequest, "T018"},
		{"blank reason", map[string]string{"cancelReasonType": "   "}, http.StatusBadRequest, "T018"},
		{"detail without reason", map[string]string{"cancelReasonDetail": "why"}, http.StatusBadRequest, "T018"},
		{"unknown reason", map[string]string{"cancelReasonType": "BORED"}, http.StatusBadRequest, "T021"},
		{"ETC without detail", map[string]string{"cancelReasonType": "ETC"}, http.StatusBadRequest, "T019"},
		{"ETC with a blank detail", map[string]string{"cancelReasonType": "ETC", "cancelReasonDetail": "   "}, http.StatusBadRequest, "T019"},
		{"detail too long", map[string]string{"cancelReasonType": "ETC", "cancelReasonDetail": strings.Repeat("x", 1001)}, http.StatusBadRequest, "C001"},
	} {
		for _, who := range []tradetest.User{deal.Buyer, deal.Seller} {
			res := st.Do(t, "PATCH", path, c.body, who.Token)
			if res.Status != c.status || res.Error(t).Code != c.code {
				t.Errorf("%s: status %d %s, want %d %s", c.name, res.Status, res.Body, c.status, c.code)
			}
		}
	}
	stranger := tradetest.NewUser(t, st, auth.RoleUser)
	tradetest.Cancel(t, st, deal.ID, stranger.Token, "CHANGE_OF_MIND", "").Refused(t, http.StatusForbidden, "T027")
	if got := tradetest.Read(t, st, deal.ID); got.Status != trades.Trading || got.Version != 0 {
		t.Fatalf("after refusals: %+v", got)
	}
	if h := tradetest.History(t, st, deal.ID); len(h) != 1 {
		t.Fatalf("history %+v after refusals", h)
	}
	tradetest.WantTopics(t, st, deal.ID, events.TradeCreated)

	// Cancelling a completed trade, from either side, is T026.
	done := tradetest.Open(t, st)
	tradetest.MustComplete(t, st, done.ID, done.Buyer.Token)
	tradetest.MustComplete(t, st, done.ID, done.Seller.Token)
	tradetest.Cancel(t, st, done.ID, done.Buyer.Token, "CHANGE_OF_MIND", "").Refused(t, http.StatusConflict, "T026")
	tradetest.Cancel(t, st, done.ID, done.Seller.Token, "ETC", "too late").Refused(t, http.StatusConflict, "T026")
	tradetest.Cancel(t, st, done.ID, tradetest.NewUser(t, st, auth.RoleMaster).Token, "POLICY_VIOLATION", "").
		Refused(t, http.StatusConflict, "T026")
	tradetest.WantTopics(t, st, done.ID, events.TradeCreated, events.TradeCompleted)

	// One side's completion does not stop the other from cancelling (reference 7.2).
	half := tradetest.Open(t, st)
	tradetest.MustComplete(t, st, half.ID, half.Seller.Token)
	if got := tradetest.MustCancel(t, st, half.ID, half.Buyer.Token, "SCHEDULE_CONFLICT", ""); got.Status != trades.Cancelled ||
		got.SellerStatus != trades.Completed || got.BuyerStatus != trades.Cancelled {
		t.Fatalf("cancel after the other side completed: %+v", got)
	}

	st.Do(t, "PATCH", "/api/v1/trades/not-a-uuid/cancel", tradetest.CancelBody("CHANGE_OF_MIND", ""), deal.Buyer.Token).
		Refused(t, http.StatusBadRequest, "C015")
	tradetest.Cancel(t, st, uuid.New(), deal.Buyer.Token, "CHANGE_OF_MIND", "").Refused(t, http.StatusNotFound, "T025")
	tradetest.Cancel(t, st, deal.ID, "", "CHANGE_OF_MIND", "").Refused(t, http.StatusUnauthorized, "C002")
}
