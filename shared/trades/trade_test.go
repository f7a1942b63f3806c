package trades_test

import (
	"context"
	"errors"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/events"
	"github.com/8949market/market/shared/events/eventtest"
	"github.com/8949market/market/shared/fault"
	"github.com/8949market/market/shared/testenv"
	"github.com/8949market/market/shared/testfactory"
	"github.com/8949market/market/shared/trades"
	"github.com/8949market/market/shared/trades/tradetest"
)

type testBundle struct {
	db    *pgxpool.Pool
	store *trades.Store
}

// setup returns a fresh database and its store; subtests share it and open trades of
// their own (trade).
func setup(t *testing.T) testBundle {
	t.Helper()
	db := testenv.DB(t)
	return testBundle{db: db, store: trades.NewStore(db)}
}

// user is a fresh caller with role.
func user(role auth.Role) auth.Identity {
	id := uuid.New()
	return auth.Identity{UserID: id, Nickname: "n" + id.String()[:6], Role: role}
}

// deal is a trade between two fresh users, as trade-created leaves it.
type deal struct {
	trades.Trade
	buyer, seller auth.Identity
}

func (b testBundle) trade(t *testing.T) deal {
	t.Helper()
	return b.between(t, user(auth.RoleUser), user(auth.RoleUser))
}

func (b testBundle) between(t *testing.T, buyer, seller auth.Identity) deal {
	t.Helper()
	tr := testfactory.Trade(context.Background(), t, b.db, &testfactory.TradeOpts{
		BuyerID: buyer.UserID, BuyerNickname: buyer.Nickname, SellerID: seller.UserID, SellerNickname: seller.Nickname})
	return deal{Trade: tr, buyer: buyer, seller: seller}
}

func (b testBundle) complete(t *testing.T, id uuid.UUID, who auth.Identity) (trades.Trade, error) {
	t.Helper()
	return trades.Complete(context.Background(), b.store, id, who)
}

func (b testBundle) cancel(t *testing.T, id uuid.UUID, who auth.Identity, reason, detail string) (trades.Trade, error) {
	t.Helper()
	return trades.Cancel(context.Background(), b.store, id, who, trades.Cancellation{ReasonType: reason, Detail: detail})
}

func (b testBundle) mustComplete(t *testing.T, id uuid.UUID, who auth.Identity) trades.Trade {
	t.Helper()
	return must(t)(b.complete(t, id, who))
}

func (b testBundle) mustCancel(t *testing.T, id uuid.UUID, who auth.Identity, reason, detail string) trades.Trade {
	t.Helper()
	return must(t)(b.cancel(t, id, who, reason, detail))
}

func (b testBundle) mustGet(t *testing.T, id uuid.UUID, who auth.Identity) trades.Trade {
	t.Helper()
	return must(t)(b.store.Get(context.Background(), id, who))
}

// must fails the test on an error and returns the trade.
func must(t *testing.T) func(trades.Trade, error) trades.Trade {
	return func(tr trades.Trade, err error) trades.Trade {
		t.Helper()
		if err != nil {
			t.Fatalf("%v", err)
		}
		return tr
	}
}

// refused fails the test unless err is the fault with code.
func refused(t *testing.T, err error, code string) {
	t.Helper()
	if f, ok := fault.As(err); !ok || f.Code != code {
		t.Fatalf("error %v, want %s", err, code)
	}
}

// wantTopics fails the test unless the events about aggregate id are topics, in order.
func (b testBundle) wantTopics(t *testing.T, id uuid.UUID, topics ...string) []eventtest.Row {
	t.Helper()
	return tradetest.WantTopics(t, b.db, id, topics...)
}

// unchanged fails the test unless the trade is as the factory made it: trading, version
// 0, its creation alone in the history, no event.
func (b testBundle) unchanged(t *testing.T, id uuid.UUID) {
	t.Helper()
	if got := tradetest.Read(t, b.db, id); got.Status != trades.Trading || got.BuyerStatus != trades.Trading ||
		got.SellerStatus != trades.Trading || got.Version != 0 {
		t.Fatalf("trade changed: %+v", got)
	}
	if h := tradetest.History(t, b.db, id); len(h) != 1 {
		t.Fatalf("history %+v, want the creation only", h)
	}
	b.wantTopics(t, id)
}

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

// Every reason by every side: an allowed one cancels the trade, records who cancelled on
// which side and why, and announces trade-cancelled with the reason; a refused one is
// T020 and writes nothing.
func TestCancelReasons(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for reason := range allowed {
		for _, side := range []trades.Side{trades.Buyer, trades.Seller, trades.Admin} {
			t.Run(reason+" by "+string(side), func(t *testing.T) {
				t.Parallel()
				d := b.trade(t)
				caller := d.buyer
				switch side {
				case trades.Seller:
					caller = d.seller
				case trades.Admin:
					caller = user(auth.RoleManager)
				}
				detail := ""
				if reason == "ETC" || side == trades.Seller {
					detail = "  details from the " + strings.ToLower(string(side)) + "  "
				}
				got, err := b.cancel(t, d.ID, caller, reason, detail)
				if !slices.Contains(allowed[reason], side) {
					refused(t, err, "T020")
					b.unchanged(t, d.ID)
					return
				}
				must(t)(got, err)
				wantBuyer, wantSeller := trades.Trading, trades.Trading
				switch side {
				case trades.Buyer:
					wantBuyer = trades.Cancelled
				case trades.Seller:
					wantSeller = trades.Cancelled
				}
				if got.ID != d.ID || got.Status != trades.Cancelled || got.BuyerStatus != wantBuyer || got.SellerStatus != wantSeller {
					t.Fatalf("answer %+v, want CANCELLED with buyer %s seller %s", got, wantBuyer, wantSeller)
				}
				if stored := tradetest.Read(t, b.db, d.ID); stored.Status != trades.Cancelled || stored.Version != got.Version {
					t.Fatalf("stored %+v, answered %+v", stored, got)
				}

				wantDetail := strings.TrimSpace(detail)
				h := tradetest.History(t, b.db, d.ID)
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

				evs := b.wantTopics(t, d.ID, events.TradeCancelled)
				var e events.TradeData
				evs[0].Decode(t, &e)
				if e.TradeID != d.ID || e.ReservationID != d.ReservationID || e.ProductID != d.ProductID ||
					e.BuyerID != d.buyer.UserID || e.SellerID != d.seller.UserID || evs[0].Source != events.SourceTrades {
					t.Fatalf("trade-cancelled %+v", e)
				}
				if !strings.Contains(e.Reason, reason) || (wantDetail != "" && !strings.Contains(e.Reason, wantDetail)) {
					t.Fatalf("trade-cancelled reason %q, want it to name %s and %q", e.Reason, reason, wantDetail)
				}

				// Once cancelled, nobody cancels it again.
				_, err = b.cancel(t, d.ID, caller, reason, detail)
				refused(t, err, "T026")
				b.wantTopics(t, d.ID, events.TradeCancelled)
			})
		}
	}
}

// The reason is checked before anything is written: missing (T018), unknown (T021), ETC
// without a detail (T019), a detail too long (C001); a closed trade is T026; strangers
// T027; one side's completion does not stop the other from cancelling.
func TestCancelRefusals(t *testing.T) {
	t.Parallel()
	b := setup(t)
	d := b.trade(t)
	for _, c := range []struct {
		name           string
		reason, detail string
		code           string
	}{
		{"no reason", "", "", "T018"},
		{"blank reason", "   ", "", "T018"},
		{"detail without reason", "", "why", "T018"},
		{"unknown reason", "BORED", "", "T021"},
		{"ETC without detail", "ETC", "", "T019"},
		{"ETC with a blank detail", "ETC", "   ", "T019"},
		{"detail too long", "ETC", strings.Repeat("x", 1001), "C001"},
	} {
		for _, who := range []auth.Identity{d.buyer, d.seller} {
			if _, err := b.cancel(t, d.ID, who, c.reason, c.detail); !errors.Is(err, fault.New(0, c.code, "")) {
				t.Errorf("%s: %v, want %s", c.name, err, c.code)
			}
		}
	}
	_, err := b.cancel(t, d.ID, user(auth.RoleUser), "CHANGE_OF_MIND", "")
	refused(t, err, "T027")
	b.unchanged(t, d.ID)

	// Cancelling a completed trade, from either side, is T026.
	done := b.trade(t)
	b.mustComplete(t, done.ID, done.buyer)
	b.mustComplete(t, done.ID, done.seller)
	_, err = b.cancel(t, done.ID, done.buyer, "CHANGE_OF_MIND", "")
	refused(t, err, "T026")
	_, err = b.cancel(t, done.ID, done.seller, "ETC", "too late")
	refused(t, err, "T026")
	_, err = b.cancel(t, done.ID, user(auth.RoleMaster), "POLICY_VIOLATION", "")
	refused(t, err, "T026")
	b.wantTopics(t, done.ID, events.TradeCompleted)

	// One side's completion does not stop the other from cancelling (reference 7.2).
	half := b.trade(t)
	b.mustComplete(t, half.ID, half.seller)
	if got := b.mustCancel(t, half.ID, half.buyer, "SCHEDULE_CONFLICT", ""); got.Status != trades.Cancelled ||
		got.SellerStatus != trades.Completed || got.BuyerStatus != trades.Cancelled {
		t.Fatalf("cancel after the other side completed: %+v", got)
	}
	_, err = b.cancel(t, uuid.New(), d.buyer, "CHANGE_OF_MIND", "")
	refused(t, err, "T025")
}

// Each party completes, in either order; the second completion completes the trade,
// writes its history and announces trade-completed once.
func TestBothComplete(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, order := range []string{"buyer then seller", "seller then buyer"} {
		t.Run(order, func(t *testing.T) {
			t.Parallel()
			d := b.trade(t)
			first, second := d.buyer, d.seller
			firstSide, secondSide := trades.Buyer, trades.Seller
			if order == "seller then buyer" {
				first, second = second, first
				firstSide, secondSide = secondSide, firstSide
			}

			got := b.mustComplete(t, d.ID, first)
			mine, theirs := got.BuyerStatus, got.SellerStatus
			if firstSide == trades.Seller {
				mine, theirs = theirs, mine
			}
			if got.Status != trades.Trading || mine != trades.Completed || theirs != trades.Trading {
				t.Fatalf("after the first completion: %+v", got)
			}
			b.wantTopics(t, d.ID)
			// Completing twice is refused and changes nothing.
			_, err := b.complete(t, d.ID, first)
			refused(t, err, "T029")
			if again := tradetest.Read(t, b.db, d.ID); again.Version != got.Version || again.Status != trades.Trading {
				t.Fatalf("after a repeated completion: %+v, want version %d", again, got.Version)
			}

			got = b.mustComplete(t, d.ID, second)
			if got.Status != trades.Completed || got.BuyerStatus != trades.Completed || got.SellerStatus != trades.Completed {
				t.Fatalf("after both completions: %+v", got)
			}
			if stored := tradetest.Read(t, b.db, d.ID); stored.Status != trades.Completed || stored.Version != got.Version {
				t.Fatalf("stored %+v, answered %+v", stored, got)
			}
			evs := b.wantTopics(t, d.ID, events.TradeCompleted)
			var e events.TradeData
			evs[0].Decode(t, &e)
			if e.TradeID != d.ID || e.ReservationID != d.ReservationID || e.ProductID != d.ProductID ||
				e.BuyerID != d.buyer.UserID || e.SellerID != d.seller.UserID || evs[0].Source != events.SourceTrades {
				t.Fatalf("trade-completed %+v from %s", e, evs[0].Source)
			}
			h := tradetest.History(t, b.db, d.ID)
			if len(h) != 2 || h[0].From != nil || h[0].To != "TRADING" ||
				h[1].From == nil || *h[1].From != "TRADING" || h[1].To != "COMPLETED" ||
				h[1].ActorID == nil || *h[1].ActorID != second.UserID || h[1].ActorSide == nil || *h[1].ActorSide != string(secondSide) ||
				h[1].ReasonType != nil {
				t.Fatalf("history %+v", h)
			}

			// A closed trade takes no more completions or cancellations, from either side.
			for _, who := range []auth.Identity{first, second} {
				_, err := b.complete(t, d.ID, who)
				refused(t, err, "T026")
				_, err = b.cancel(t, d.ID, who, "CHANGE_OF_MIND", "")
				refused(t, err, "T026")
			}
			b.wantTopics(t, d.ID, events.TradeCompleted)
			if n := len(tradetest.History(t, b.db, d.ID)); n != 2 {
				t.Fatalf("%d history rows after refusals", n)
			}
		})
	}
}

// Completion is the parties' own: an administrator who is not a party is refused, and so
// is a stranger; a cancelled trade cannot be completed.
func TestCompleteRefusals(t *testing.T) {
	t.Parallel()
	b := setup(t)
	t.Run("admin who is not a party", func(t *testing.T) {
		t.Parallel()
		d := b.trade(t)
		for _, role := range []auth.Role{auth.RoleManager, auth.RoleMaster} {
			_, err := b.complete(t, d.ID, user(role))
			refused(t, err, "T027")
		}
		b.mustComplete(t, d.ID, d.buyer)
		_, err := b.complete(t, d.ID, user(auth.RoleMaster))
		refused(t, err, "T027")
		if got := tradetest.Read(t, b.db, d.ID); got.Status != trades.Trading || got.SellerStatus != trades.Trading {
			t.Fatalf("after the admin's attempts: %+v", got)
		}
		b.wantTopics(t, d.ID)
	})
	t.Run("admin who is a party completes as that party", func(t *testing.T) {
		t.Parallel()
		d := b.between(t, user(auth.RoleUser), user(auth.RoleManager))
		if got := b.mustComplete(t, d.ID, d.seller); got.SellerStatus != trades.Completed || got.BuyerStatus != trades.Trading {
			t.Fatalf("after the admin seller completed: %+v", got)
		}
	})
	t.Run("cancelled", func(t *testing.T) {
		t.Parallel()
		d := b.trade(t)
		b.mustCancel(t, d.ID, d.buyer, "REFUND_REQUEST", "")
		for _, who := range []auth.Identity{d.buyer, d.seller} {
			_, err := b.complete(t, d.ID, who)
			refused(t, err, "T026")
		}
		b.wantTopics(t, d.ID, events.TradeCancelled)
	})
	t.Run("stranger and no such trade", func(t *testing.T) {
		t.Parallel()
		d := b.trade(t)
		_, err := b.complete(t, d.ID, user(auth.RoleUser))
		refused(t, err, "T027")
		_, err = b.complete(t, uuid.New(), user(auth.RoleUser))
		refused(t, err, "T025")
		b.unchanged(t, d.ID)
	})
}

// The seller's completion and the buyer's cancellation of a trade the buyer already
// completed, released together: exactly one wins, the other is refused with 409, and the
// trade ends the way the winner said with exactly one terminal event.
func TestCompleteCancelRace(t *testing.T) {
	t.Parallel()
	b := setup(t)
	wins := map[trades.Status]int{}
	for run := range 100 {
		d := b.trade(t)
		b.mustComplete(t, d.ID, d.buyer)

		start := make(chan struct{})
		var completeErr, cancelErr error
		var wg sync.WaitGroup
		wg.Go(func() {
			<-start
			_, completeErr = b.complete(t, d.ID, d.seller)
		})
		wg.Go(func() {
			<-start
			_, cancelErr = b.cancel(t, d.ID, d.buyer, "CHANGE_OF_MIND", "")
		})
		close(start)
		wg.Wait()

		var winner trades.Status
		var loser error
		switch {
		case completeErr == nil && cancelErr != nil:
			winner, loser = trades.Completed, cancelErr
		case cancelErr == nil && completeErr != nil:
			winner, loser = trades.Cancelled, completeErr
		default:
			t.Fatalf("run %d: complete %v, cancel %v: want one success and one refusal", run, completeErr, cancelErr)
		}
		if f, ok := fault.As(loser); !ok || f.Kind != fault.Conflict || (f.Code != "T026" && f.Code != "T028") {
			t.Fatalf("run %d: the loser got %v, want T026 or T028", run, loser)
		}
		wins[winner]++

		terminal := events.TradeCompleted
		if winner == trades.Cancelled {
			terminal = events.TradeCancelled
		}
		if stored := tradetest.Read(t, b.db, d.ID); stored.Status != winner {
			t.Fatalf("run %d: %s won but the trade is %s", run, winner, stored.Status)
		}
		b.wantTopics(t, d.ID, terminal)
		if h := tradetest.History(t, b.db, d.ID); len(h) != 2 || h[1].To != string(winner) {
			t.Fatalf("run %d: history %+v, want one %s row after creation", run, h, winner)
		}
	}
	t.Logf("outcomes over 100 runs: %v", wins)
}

// The buyer, the seller and administrators read a trade; a stranger can neither read it
// nor complete nor cancel it (T027), and nothing changes; a closed trade is still
// readable by its parties only.
func TestGetAccess(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	d := b.trade(t)
	for _, who := range []auth.Identity{d.buyer, d.seller, user(auth.RoleManager), user(auth.RoleMaster)} {
		got := b.mustGet(t, d.ID, who)
		if got.ID != d.ID || got.ReservationID != d.ReservationID || got.ProductID != d.ProductID ||
			got.Status != trades.Trading || got.BuyerStatus != trades.Trading || got.SellerStatus != trades.Trading ||
			got.BuyerID != d.buyer.UserID || got.BuyerNickname != d.buyer.Nickname ||
			got.SellerID != d.seller.UserID || got.SellerNickname != d.seller.Nickname ||
			got.ProductPrice != d.ProductPrice || got.ChatRoomID != nil || got.CreatedAt.IsZero() {
			t.Fatalf("trade as %s: %+v", who.Role, got)
		}
	}
	stranger := user(auth.RoleUser)
	_, err := b.store.Get(ctx, d.ID, stranger)
	refused(t, err, "T027")
	_, err = b.complete(t, d.ID, stranger)
	refused(t, err, "T027")
	for _, reason := range []string{"CHANGE_OF_MIND", "REFUND_REQUEST", "PRODUCT_ISSUE", "POLICY_VIOLATION"} {
		_, err = b.cancel(t, d.ID, stranger, reason, "")
		refused(t, err, "T027")
	}
	_, err = b.cancel(t, d.ID, stranger, "ETC", "mine now")
	refused(t, err, "T027")
	b.unchanged(t, d.ID)

	b.mustComplete(t, d.ID, d.buyer)
	b.mustComplete(t, d.ID, d.seller)
	if got := b.mustGet(t, d.ID, d.buyer); got.Status != trades.Completed {
		t.Fatalf("completed trade reads %s", got.Status)
	}
	_, err = b.store.Get(ctx, d.ID, stranger)
	refused(t, err, "T027")
	for _, who := range []auth.Identity{d.buyer, user(auth.RoleMaster)} {
		_, err = b.store.Get(ctx, uuid.New(), who)
		refused(t, err, "T025")
	}
}

// open applies reservation-completed d as the consumer does, in a transaction of its own.
func (b testBundle) open(t *testing.T, d events.ReservationData) {
	t.Helper()
	if err := pgx.BeginFunc(context.Background(), b.db, func(tx pgx.Tx) error { return trades.Open(context.Background(), tx, d) }); err != nil {
		t.Fatalf("open: %v", err)
	}
}

// reservation is the reservation-completed data of a fresh reservation between buyer and
// seller.
func reservation(buyer, seller auth.Identity) events.ReservationData {
	return tradetest.Reservation(buyer, seller)
}

// reservation-completed opens one trade per reservation, however often it comes, with
// its history and trade-created; after the trade moved on, it does not reopen it.
func TestOpen(t *testing.T) {
	t.Parallel()
	b := setup(t)
	buyer, seller := user(auth.RoleUser), user(auth.RoleUser)

	t.Run("opened", func(t *testing.T) {
		t.Parallel()
		d := reservation(buyer, seller)
		b.open(t, d)
		got, ok := tradetest.ByReservation(t, b.db, d.ReservationID)
		if !ok {
			t.Fatalf("no trade")
		}
		if got.Status != trades.Trading || got.BuyerStatus != trades.Trading || got.SellerStatus != trades.Trading ||
			got.BuyerID != buyer.UserID || got.BuyerNickname != buyer.Nickname || got.SellerID != seller.UserID ||
			got.SellerNickname != seller.Nickname || got.ProductID != d.ProductID || got.ProductName != d.ProductName ||
			got.ProductPrice != d.Price || got.ChatRoomID != nil || got.Version != 0 {
			t.Fatalf("trade %+v from %+v", got, d)
		}
		h := tradetest.History(t, b.db, got.ID)
		if len(h) != 1 || h[0].From != nil || h[0].To != "TRADING" || h[0].ActorID != nil ||
			h[0].ActorSide == nil || *h[0].ActorSide != string(trades.System) {
			t.Fatalf("history %+v", h)
		}
		evs := b.wantTopics(t, got.ID, events.TradeCreated)
		var e events.TradeData
		evs[0].Decode(t, &e)
		if e.TradeID != got.ID || e.ReservationID != d.ReservationID || e.ProductID != d.ProductID ||
			e.BuyerID != buyer.UserID || e.BuyerNickname != buyer.Nickname || e.SellerID != seller.UserID ||
			e.SellerNickname != seller.Nickname || e.ProductName != d.ProductName || evs[0].Source != events.SourceTrades {
			t.Fatalf("trade-created %+v from %s", e, evs[0].Source)
		}
	})
	t.Run("again for the same reservation", func(t *testing.T) {
		t.Parallel()
		d := reservation(buyer, seller)
		b.open(t, d)
		before, _ := tradetest.ByReservation(t, b.db, d.ReservationID)
		b.open(t, d)
		if got := b.wantOne(t, d.ReservationID); got.ID != before.ID {
			t.Fatalf("trade %s replaced by %s", before.ID, got.ID)
		}
	})
	t.Run("after the trade moved on", func(t *testing.T) {
		t.Parallel()
		d := reservation(buyer, seller)
		b.open(t, d)
		tr, _ := tradetest.ByReservation(t, b.db, d.ReservationID)
		b.mustCancel(t, tr.ID, seller, "PRODUCT_ISSUE", "")
		b.open(t, d)
		if got := b.wantOne(t, d.ReservationID); got.Status != trades.Cancelled {
			t.Fatalf("a second open reopened the trade: %+v", got)
		}
	})
}

// wantOne fails the test unless reservation id has exactly one trade, announced once, and
// no reservation-tradefail.
func (b testBundle) wantOne(t *testing.T, reservationID uuid.UUID) trades.Trade {
	t.Helper()
	if n := tradetest.Count(t, b.db, reservationID); n != 1 {
		t.Fatalf("%d trades for reservation %s", n, reservationID)
	}
	got, _ := tradetest.ByReservation(t, b.db, reservationID)
	if n := len(eventtest.Outbox(t, b.db, got.ID.String(), events.TradeCreated)); n != 1 {
		t.Fatalf("%d trade-created, want one", n)
	}
	if n := len(tradetest.History(t, b.db, got.ID)); n < 1 {
		t.Fatalf("no history")
	}
	b.wantTopics(t, reservationID)
	return got
}

// A reservation that cannot become a trade opens none; reservation-tradefail tells the
// reservation and the product, once however often the event comes.
func TestTradeFail(t *testing.T) {
	t.Parallel()
	b := setup(t)
	buyer, seller := user(auth.RoleUser), user(auth.RoleUser)
	nilID := uuid.Nil
	for _, c := range []struct {
		name   string
		mutate func(d *events.ReservationData)
	}{
		{"buyer is the seller", func(d *events.ReservationData) { s := d.SellerID; d.BuyerID = &s }},
		{"no buyer", func(d *events.ReservationData) { d.BuyerID, d.BuyerNickname = nil, "" }},
		{"nil buyer", func(d *events.ReservationData) { d.BuyerID = &nilID }},
		{"price 0", func(d *events.ReservationData) { d.Price = 0 }},
		{"negative price", func(d *events.ReservationData) { d.Price = -5000 }},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			d := reservation(buyer, seller)
			c.mutate(&d)
			b.open(t, d)
			if n := tradetest.Count(t, b.db, d.ReservationID); n != 0 {
				t.Fatalf("%d trades opened", n)
			}
			evs := b.wantTopics(t, d.ReservationID, events.ReservationTradeFail)
			var f events.ReservationTradeFailData
			evs[0].Decode(t, &f)
			if f.ReservationID != d.ReservationID || f.ProductID != d.ProductID || f.Reason == "" || evs[0].Source != events.SourceTrades {
				t.Fatalf("reservation-tradefail %+v from %s", f, evs[0].Source)
			}
			var n int
			if err := b.db.QueryRow(t.Context(), `SELECT count(*) FROM messaging.outbox WHERE topic = $1 AND payload->>'reservationId' = $2`,
				events.TradeCreated, d.ReservationID.String()).Scan(&n); err != nil || n != 0 {
				t.Fatalf("%d trade-created for a failed reservation (%v)", n, err)
			}
		})
	}
}

// chat-room-created records the room on its trade, which keeps its first room through
// its life and announces nothing; a room for a trade that does not exist changes nothing.
func TestRecordRoom(t *testing.T) {
	t.Parallel()
	b := setup(t)
	record := func(t *testing.T, tradeID, roomID uuid.UUID) {
		t.Helper()
		err := pgx.BeginFunc(context.Background(), b.db, func(tx pgx.Tx) error {
			return trades.RecordRoom(context.Background(), tx, events.ChatRoomCreatedData{RoomID: roomID, TradeID: tradeID})
		})
		if err != nil {
			t.Fatalf("record room: %v", err)
		}
	}
	d := b.trade(t)
	first := uuid.New()
	record(t, d.ID, first)
	record(t, d.ID, uuid.New())
	got := tradetest.Read(t, b.db, d.ID)
	if got.ChatRoomID == nil || *got.ChatRoomID != first {
		t.Fatalf("chatRoomId %v, want the first room %s", got.ChatRoomID, first)
	}
	if got.Version != 0 || got.Status != trades.Trading {
		t.Fatalf("recording the room changed the trade: %+v", got)
	}
	b.wantTopics(t, d.ID)

	b.mustComplete(t, d.ID, d.buyer)
	if got := b.mustComplete(t, d.ID, d.seller); got.ChatRoomID == nil || *got.ChatRoomID != first {
		t.Fatalf("after completion chatRoomId %v, want %s", got.ChatRoomID, first)
	}
	record(t, uuid.New(), uuid.New())
}

// list reads every page of the caller's trades with query, size at a time, and returns
// the ids in the order they came, failing the test if a trade is seen twice.
func (b testBundle) list(t *testing.T, who auth.Identity, query url.Values, size int) []uuid.UUID {
	t.Helper()
	var ids []uuid.UUID
	seen := map[uuid.UUID]bool{}
	q := url.Values{}
	for k, v := range query {
		q[k] = v
	}
	q.Set("size", strconv.Itoa(size))
	for pages := 0; ; pages++ {
		if pages > 50 {
			t.Fatalf("more than 50 pages")
		}
		p, err := trades.List(context.Background(), b.store, who, q)
		if err != nil {
			t.Fatalf("list %v: %v", q, err)
		}
		if len(p.Content) > size {
			t.Fatalf("page of %d, size %d", len(p.Content), size)
		}
		for _, tr := range p.Content {
			if seen[tr.ID] {
				t.Fatalf("trade %s listed twice", tr.ID)
			}
			seen[tr.ID] = true
			ids = append(ids, tr.ID)
		}
		if !p.HasNext {
			return ids
		}
		if p.NextCursor == "" {
			t.Fatalf("hasNext without a cursor")
		}
		q.Set("cursor", p.NextCursor)
	}
}

// wantIDs fails the test unless got holds exactly the trades want, newest (last opened)
// first.
func wantIDs(t *testing.T, what string, got []uuid.UUID, want ...uuid.UUID) {
	t.Helper()
	w := slices.Clone(want)
	slices.Reverse(w)
	if !slices.Equal(got, w) {
		t.Fatalf("%s: %v, want %v", what, got, w)
	}
}

// The list shows the caller's trades only, newest first, filtered by side and status;
// administrators see all of them; pages visit each trade once.
func TestList(t *testing.T) {
	t.Parallel()
	b := setup(t)
	me := user(auth.RoleUser)
	other := func() auth.Identity { return user(auth.RoleUser) }

	// Opened in this order: bought, sold, bought, sold, bought.
	b1 := b.between(t, me, other())
	s1 := b.between(t, other(), me)
	b2 := b.between(t, me, other())
	s2 := b.between(t, other(), me)
	b3 := b.between(t, me, other())
	strangers := b.trade(t)

	b.mustComplete(t, b2.ID, b2.buyer)
	b.mustComplete(t, b2.ID, b2.seller)
	b.mustCancel(t, s2.ID, s2.buyer, "REFUND_REQUEST", "")

	all := []uuid.UUID{b1.ID, s1.ID, b2.ID, s2.ID, b3.ID}
	wantIDs(t, "mine", b.list(t, me, nil, 20), all...)
	wantIDs(t, "mine, two a page", b.list(t, me, nil, 2), all...)
	wantIDs(t, "mine, one a page", b.list(t, me, nil, 1), all...)
	wantIDs(t, "bought", b.list(t, me, url.Values{"role": {"BUYER"}}, 2), b1.ID, b2.ID, b3.ID)
	wantIDs(t, "sold", b.list(t, me, url.Values{"role": {"seller"}}, 2), s1.ID, s2.ID)
	wantIDs(t, "trading", b.list(t, me, url.Values{"status": {"TRADING"}}, 2), b1.ID, s1.ID, b3.ID)
	wantIDs(t, "completed", b.list(t, me, url.Values{"status": {"COMPLETED"}}, 2), b2.ID)
	wantIDs(t, "cancelled", b.list(t, me, url.Values{"status": {"CANCELLED"}}, 2), s2.ID)
	wantIDs(t, "bought and trading", b.list(t, me, url.Values{"status": {"TRADING"}, "role": {"BUYER"}}, 2), b1.ID, b3.ID)
	wantIDs(t, "sold and cancelled", b.list(t, me, url.Values{"status": {"CANCELLED"}, "role": {"SELLER"}}, 2), s2.ID)
	wantIDs(t, "a stranger's", b.list(t, strangers.buyer, nil, 2), strangers.ID)
	wantIDs(t, "a newcomer's", b.list(t, user(auth.RoleUser), nil, 2))

	for _, role := range []auth.Role{auth.RoleManager, auth.RoleMaster} {
		admin := user(role)
		wantIDs(t, string(role)+" sees all", b.list(t, admin, nil, 2), append(all, strangers.ID)...)
		wantIDs(t, string(role)+" trading", b.list(t, admin, url.Values{"status": {"TRADING"}}, 2), b1.ID, s1.ID, b3.ID, strangers.ID)
		// A role filter is about the caller's own side, administrators included.
		wantIDs(t, string(role)+" as buyer", b.list(t, admin, url.Values{"role": {"BUYER"}}, 2))
	}
}

// A filter out of range is C015, a size out of range or a cursor that is not one is a
// 400, and a cursor belongs to its query: another filter or another caller cannot reuse
// it.
func TestListRefusals(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	me := user(auth.RoleUser)
	query := func(raw string) url.Values {
		q, err := url.ParseQuery(raw)
		if err != nil {
			t.Fatal(err)
		}
		return q
	}
	for _, q := range []string{"status=DONE", "status=PENDING", "role=ADMIN", "role=SYSTEM", "role=owner"} {
		_, err := trades.List(ctx, b.store, me, query(q))
		refused(t, err, "C015")
	}
	for _, q := range []string{"size=0", "size=101", "size=x", "cursor=garbage"} {
		if _, err := trades.List(ctx, b.store, me, query(q)); err == nil {
			t.Errorf("%s: accepted", q)
		} else if f, ok := fault.As(err); !ok || f.Kind != fault.Invalid {
			t.Errorf("%s: %v, want a 400", q, err)
		}
	}
	for range 3 {
		b.between(t, me, user(auth.RoleUser))
	}
	p, err := trades.List(ctx, b.store, me, url.Values{"size": {"1"}})
	if err != nil || !p.HasNext || p.NextCursor == "" {
		t.Fatalf("first page %+v (%v), want a next cursor", p, err)
	}
	c := p.NextCursor
	for _, q := range []url.Values{{"size": {"1"}, "status": {"TRADING"}, "cursor": {c}}, {"size": {"1"}, "role": {"BUYER"}, "cursor": {c}}} {
		if _, err := trades.List(ctx, b.store, me, q); err == nil {
			t.Errorf("%v: accepted another query's cursor", q)
		}
	}
	if _, err := trades.List(ctx, b.store, user(auth.RoleUser), url.Values{"size": {"1"}, "cursor": {c}}); err == nil {
		t.Errorf("another caller's cursor accepted")
	}
}
