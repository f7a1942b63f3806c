package complete_test

import (
	"net/http"
	"sync"
	"testing"

	"github.com/google/uuid"

	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/devstack/stacktest"
	"github.com/8949market/market/shared/events"
	"github.com/8949market/market/shared/trades"
	"github.com/8949market/market/shared/trades/tradetest"
)

// Each party completes, in either order; the second completion completes the trade,
// writes its history and announces trade-completed once.
func TestBothComplete(t *testing.T) {
	t.Parallel()
	st := stacktest.Start(t)
	for _, order := range []string{"buyer then seller", "seller then buyer"} {
		t.Run(order, func(t *testing.T) {
			t.Parallel()
			deal := tradetest.Open(t, st)
			first, second := deal.Buyer, deal.Seller
			firstSide, secondSide := trades.Buyer, trades.Seller
			if order == "seller then buyer" {
				first, second = second, first
				firstSide, secondSide = secondSide, firstSide
			}

			got := tradetest.MustComplete(t, st, deal.ID, first.Token)
			mine, theirs := got.BuyerStatus, got.SellerStatus
			if firstSide == trades.Seller {
				mine, theirs = theirs, mine
			}
			if got.Status != trades.Trading || mine != trades.Completed || theirs != trades.Trading {
				t.Fatalf("after the first completion: %+v", got)
			}
			tradetest.WantTopics(t, st, deal.ID, events.TradeCreated)
			// Completing twice is refused and changes nothing.
			tradetest.Complete(t, st, deal.ID, first.Token).Refused(t, http.StatusConflict, "T029")
			if again := tradetest.Read(t, st, deal.ID); again.Version != got.Version || again.Status != trades.Trading {
				t.Fatalf("after a repeated completion: %+v, want version %d", again, got.Version)
			}

			got = tradetest.MustComplete(t, st, deal.ID, second.Token)
			if got.Status != trades.Completed || got.BuyerStatus != trades.Completed || got.SellerStatus != trades.Completed {
				t.Fatalf("after both completions: %+v", got)
			}
			if stored := tradetest.Read(t, st, deal.ID); stored.Status != trades.Completed || stored.Version != got.Version {
				t.Fatalf("stored %+v, answered %+v", stored, got)
			}
			evs := tradetest.WantTopics(t, st, deal.ID, events.TradeCreated, events.TradeCompleted)
			if d := evs[1].Trade(t); d.TradeID != deal.ID || d.ReservationID != deal.ReservationID || d.ProductID != deal.ProductID ||
				d.BuyerID != deal.Buyer.UserID || d.SellerID != deal.Seller.UserID || evs[1].Source != events.SourceTrades {
				t.Fatalf("trade-completed %+v from %s", d, evs[1].Source)
			}
			h := tradetest.History(t, st, deal.ID)
			if len(h) != 2 || h[0].From != nil || h[0].To != "TRADING" ||
				h[1].From == nil || *h[1].From != "TRADING" || h[1].To != "COMPLETED" ||
				h[1].ActorID == nil || *h[1].ActorID != second.UserID || h[1].ActorSide == nil || *h[1].ActorSide != string(secondSide) ||
				h[1].ReasonType != nil {
				t.Fatalf("history %+v", h)
			}

			// A closed trade takes no more completions or cancellations, from either side.
			for _, who := range []tradetest.User{first, second} {
				tradetest.Complete(t, st, deal.ID, who.Token).Refused(t, http.StatusConflict, "T026")
				tradetest.Cancel(t, st, deal.ID, who.Token, "CHANGE_OF_MIND", "").Refused(t, http.StatusConflict, "T026")
			}
			tradetest.WantTopics(t, st, deal.ID, events.TradeCreated, events.TradeCompleted)
			if n := len(tradetest.History(t, st, deal.ID)); n != 2 {
				t.Fatalf("%d history rows after refusals", n)
			}
		})
	}
}

// Completion is the parties' own: an administrator who is not a party is refused, and so
// is a stranger; a cancelled trade cannot be completed.
func TestCompleteRefusals(t *testing.T) {
	t.Parallel()
	st := stacktest.Start(t)

	t.Run("admin who is not a party", func(t *testing.T) {
		t.Parallel()
		deal := tradetest.Open(t, st)
		for _, role := range []auth.Role{auth.RoleManager, auth.RoleMaster} {
			admin := tradetest.NewUser(t, st, role)
			tradetest.Complete(t, st, deal.ID, admin.Token).Refused(t, http.StatusForbidden, "T027")
		}
		tradetest.MustComplete(t, st, deal.ID, deal.Buyer.Token)
		admin := tradetest.NewUser(t, st, auth.RoleMaster)
		tradetest.Complete(t, st, deal.ID, admin.Token).Refused(t, http.StatusForbidden, "T027")
		if got := tradetest.Read(t, st, deal.ID); got.Status != trades.Trading || got.SellerStatus != trades.Trading {
			t.Fatalf("after the admin's attempts: %+v", got)
		}
		tradetest.WantTopics(t, st, deal.ID, events.TradeCreated)
	})
	t.Run("admin who is a party completes as that party", func(t *testing.T) {
		t.Parallel()
		deal := tradetest.OpenBetween(t, st, tradetest.NewUser(t, st, auth.RoleUser), tradetest.NewUser(t, st, auth.RoleManager))
		if got := tradetest.MustComplete(t, st, deal.ID, deal.Seller.Token); got.SellerStatus != trades.Completed || got.BuyerStatus != trades.Trading {
			t.Fatalf("after the admin seller completed: %+v", got)
		}
	})
	t.Run("cancelled", func(t *testing.T) {
		t.Parallel()
		deal := tradetest.Open(t, st)
		tradetest.MustCancel(t, st, deal.ID, deal.Buyer.Token, "REFUND_REQUEST", "")
		for _, who := range []tradetest.User{deal.Buyer, deal.Seller} {
			tradetest.Complete(t, st, deal.ID, who.Token).Refused(t, http.StatusConflict, "T026")
		}
		tradetest.WantTopics(t, st, deal.ID, events.TradeCreated, events.TradeCancelled)
	})
	t.Run("bad input", func(t *testing.T) {
		t.Parallel()
		user := tradetest.NewUser(t, st, auth.RoleUser)
		st.Do(t, "PATCH", "/api/v1/trades/not-a-uuid/complete", nil, user.Token).Refused(t, http.StatusBadRequest, "C015")
		tradetest.Complete(t, st, uuid.New(), user.Token).Refused(t, http.StatusNotFound, "T025")
		tradetest.Complete(t, st, uuid.New(), "").Refused(t, http.StatusUnauthorized, "C002")
	})
}

// The seller's completion and the buyer's cancellation of a trade the buyer already
// completed, released together: exactly one wins, the other is refused with 409, and the
// trade ends the way the winner said with exactly one terminal event.
func TestCompleteCancelRace(t *testing.T) {
	t.Parallel()
	st := stacktest.Start(t)
	wins := map[trades.Status]int{}
	for run := range 100 {
		deal := tradetest.Open(t, st)
		tradetest.MustComplete(t, st, deal.ID, deal.Buyer.Token)

		start := make(chan struct{})
		var complete, cancel stacktest.Response
		var wg sync.WaitGroup
		wg.Go(func() {
			<-start
			complete = tradetest.Complete(t, st, deal.ID, deal.Seller.Token)
		})
		wg.Go(func() {
			<-start
			cancel = tradetest.Cancel(t, st, deal.ID, deal.Buyer.Token, "CHANGE_OF_MIND", "")
		})
		close(start)
		wg.Wait()

		var winner trades.Status
		var loser stacktest.Response
		switch {
		case complete.Status == http.StatusOK && cancel.Status == http.StatusConflict:
			winner, loser = trades.Completed, cancel
		case cancel.Status == http.StatusOK && complete.Status == http.StatusConflict:
			winner, loser = trades.Cancelled, complete
		default:
			t.Fatalf("run %d: complete %d %s, cancel %d %s: want one 200 and one 409",
				run, complete.Status, complete.Body, cancel.Status, cancel.Body)
		}
		if code := loser.Error(t).Code; code != "T026" && code != "T028" {
			t.Fatalf("run %d: the loser got %s, want T026 or T028: %s", run, code, loser.Body)
		}
		wins[winner]++

		stored := tradetest.Read(t, st, deal.ID)
		terminal := events.TradeCompleted
		if winner == trades.Cancelled {
			terminal = events.TradeCancelled
		}
		if stored.Status != winner {
			t.Fatalf("run %d: %s won but the trade is %s", run, winner, stored.Status)
		}
		tradetest.WantTopics(t, st, deal.ID, events.TradeCreated, terminal)
		if h := tradetest.History(t, st, deal.ID); len(h) != 2 || h[1].To != string(winner) {
			t.Fatalf("run %d: history %+v, want one %s row after creation", run, h, winner)
		}
	}
	t.Logf("outcomes over 100 runs: %v", wins)
}
