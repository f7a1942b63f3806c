package trades_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/devstack/stacktest"
	"github.com/8949market/market/shared/events"
	"github.com/8949market/market/shared/products"
	"github.com/8949market/market/shared/reservations"
	rt "github.com/8949market/market/shared/reservations/reservationtest"
	"github.com/8949market/market/shared/trades"
	"github.com/8949market/market/shared/trades/tradetest"
)

// sale is a product listed through the API whose reservation a buyer won, paid and the
// seller completed, so that reservation-completed opened its trade.
type sale struct {
	productID     uuid.UUID
	reservationID uuid.UUID
	start         time.Time
	seller, buyer rt.User
	trade         trades.Trade
	completeTrace string // the trace of the seller's completion, which opened the trade
}

// sell runs the chain from a product listing to an open trade over the real stack.
func sell(t *testing.T, st *stacktest.Stack, name string) sale {
	t.Helper()
	ctx := context.Background()
	s := sale{seller: rt.NewUser(t, st, auth.RoleUser), buyer: rt.NewUser(t, st, auth.RoleUser)}
	s.start = time.Now().Add(1500 * time.Millisecond).UTC().Truncate(time.Millisecond)
	res := st.Do(t, "POST", "/api/v1/products", map[string]any{
		"name": name, "price": 5000,
		"startTime": s.start.Format(time.RFC3339Nano), "endTime": s.start.Add(time.Hour).Format(time.RFC3339Nano),
	}, s.seller.Token)
	if res.Status != http.StatusCreated {
		t.Fatalf("create product: status %d: %s", res.Status, res.Body)
	}
	var p struct {
		ProductID uuid.UUID `json:"productId"`
	}
	res.Data(t, &p)
	s.productID = p.ProductID
	rt.Settle(t, st)
	if err := st.Kit.DB.QueryRow(ctx, `SELECT id FROM reservations.reservations WHERE product_id = $1`, s.productID).
		Scan(&s.reservationID); err != nil {
		t.Fatalf("reservation of product %s: %v", s.productID, err)
	}
	rt.Exec(t, st, `UPDATE reservations.reservations SET start_time = clock_timestamp() - interval '1 second' WHERE id = $1`, s.reservationID)
	if err := reservations.NewQueue(st.Kit.DB, st.Kit.Redis, 0).Forget(ctx, s.reservationID); err != nil {
		t.Fatalf("forget admission state: %v", err)
	}
	if app := rt.MustApply(t, st, s.reservationID, s.buyer.Token); app.Status != "SELECTED" {
		t.Fatalf("application %+v, want SELECTED", app)
	}
	rt.MustAct(t, st, s.reservationID, "paymentconfirm", nil, rt.NewUser(t, st, auth.RoleManager).Token)
	res = rt.Act(t, st, s.reservationID, "complete", nil, s.seller.Token)
	var done reservations.Detail
	if res.Data(t, &done); res.Status != http.StatusOK || done.Status != reservations.Completed {
		t.Fatalf("complete: status %d, reservation %s", res.Status, done.Status)
	}
	s.completeTrace = res.Header.Get("X-Trace-Id")
	rt.Settle(t, st)

	tr, ok := tradetest.ByReservation(t, st.Kit.DB, s.reservationID)
	if !ok {
		t.Fatalf("no trade for reservation %s after reservation-completed", s.reservationID)
	}
	s.trade = tradetest.MustGet(t, st, tr.ID, s.buyer.Token)
	got := s.trade
	if got.Status != trades.Trading || got.BuyerStatus != trades.Trading || got.SellerStatus != trades.Trading ||
		got.BuyerID != s.buyer.UserID || got.BuyerNickname != s.buyer.Nickname ||
		got.SellerID != s.seller.UserID || got.SellerNickname != s.seller.Nickname ||
		got.ProductID != s.productID || got.ProductName != name || got.ProductPrice != 5000 ||
		got.ChatRoomID == nil || *got.ChatRoomID != chatRoom(t, st, got.ID, "TRADING") {
		t.Fatalf("trade %+v, want a TRADING trade of %s between buyer %s (%s) and seller %s (%s)",
			got, s.productID, s.buyer.UserID, s.buyer.Nickname, s.seller.UserID, s.seller.Nickname)
	}
	evs := tradetest.WantTopics(t, st.Kit.DB, got.ID, events.TradeCreated)
	var d events.TradeData
	evs[0].Decode(t, &d)
	if d.TradeID != got.ID || d.ReservationID != s.reservationID || d.ProductID != s.productID ||
		d.BuyerID != s.buyer.UserID || d.SellerID != s.seller.UserID ||
		d.BuyerNickname != s.buyer.Nickname || d.SellerNickname != s.seller.Nickname {
		t.Fatalf("trade-created %+v", d)
	}
	if p := product(t, st, s); p.Status != products.InTrade {
		t.Fatalf("product while trading: %s, want IN_TRADE", p.Status)
	}
	return s
}

// chatRoom returns the id of the trade's chat room, which the chat server opened from
// trade-created, and checks its state.
func chatRoom(t *testing.T, st *stacktest.Stack, tradeID uuid.UUID, status string) uuid.UUID {
	t.Helper()
	var id uuid.UUID
	var got string
	if err := st.Kit.DB.QueryRow(context.Background(), `SELECT id, status FROM chat.rooms WHERE trade_id = $1`, tradeID).Scan(&id, &got); err != nil {
		t.Fatalf("chat room of trade %s: %v", tradeID, err)
	}
	if got != status {
		t.Fatalf("chat room of trade %s is %s, want %s", tradeID, got, status)
	}
	return id
}

func product(t *testing.T, st *stacktest.Stack, s sale) products.View {
	t.Helper()
	var v products.View
	st.Do(t, "GET", "/api/v1/products/"+s.productID.String(), nil, s.seller.Token).Data(t, &v)
	return v
}

// The whole chain: a listed product sold through its reservation opens a trade with both
// nicknames and a chat room, which the trade records; both parties complete it, which
// closes the reservation and the room and marks the product sold.
func TestChainCompleted(t *testing.T) {
	t.Parallel()
	st := stacktest.Start(t)
	s := sell(t, st, "Bicycle")

	if got := tradetest.MustComplete(t, st, s.trade.ID, s.buyer.Token); got.Status != trades.Trading || got.BuyerStatus != trades.Completed {
		t.Fatalf("after the buyer completed: %+v", got)
	}
	if got := tradetest.MustComplete(t, st, s.trade.ID, s.seller.Token); got.Status != trades.Completed {
		t.Fatalf("after both completed: %+v", got)
	}
	rt.Settle(t, st)

	tradetest.WantTopics(t, st.Kit.DB, s.trade.ID, events.TradeCreated, events.TradeCompleted)
	chatRoom(t, st, s.trade.ID, "COMPLETED")
	if r := rt.Read(t, st, s.reservationID); r.Status != string(reservations.Closed) {
		t.Fatalf("reservation after trade-completed: %s, want CLOSED", r.Status)
	}
	if p := product(t, st, s); p.Status != products.Completed {
		t.Fatalf("product after trade-completed: %s, want COMPLETED", p.Status)
	}
}

// A cancelled trade hands the reservation back: with its window open and nobody waiting
// it is AVAILABLE again, and the product is on sale (RESERVING).
func TestChainCancelled(t *testing.T) {
	t.Parallel()
	st := stacktest.Start(t)
	s := sell(t, st, "Kayak")

	got := tradetest.MustCancel(t, st, s.trade.ID, s.seller.Token, "PRODUCT_ISSUE", "")
	if got.Status != trades.Cancelled || got.SellerStatus != trades.Cancelled {
		t.Fatalf("after cancel: %+v", got)
	}
	rt.Settle(t, st)

	tradetest.WantTopics(t, st.Kit.DB, s.trade.ID, events.TradeCreated, events.TradeCancelled)
	chatRoom(t, st, s.trade.ID, "CANCELLED")
	r := rt.Read(t, st, s.reservationID)
	if r.Status != string(reservations.Available) || r.BuyerID != nil {
		t.Fatalf("reservation after trade-cancelled: %s buyer %v, want AVAILABLE without a buyer", r.Status, r.BuyerID)
	}
	// The product's own window opened at s.start (the reservation's was moved by hand);
	// the product is on sale again once that time has come.
	if wait := time.Until(s.start); wait > 0 {
		<-time.After(wait)
	}
	if p := product(t, st, s); p.Status != products.Reserving {
		t.Fatalf("product after trade-cancelled: %s, want RESERVING", p.Status)
	}
}
