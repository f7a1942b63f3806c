// Package tradetest drives trades for the tests of the trade domain and its functions:
// on a stack started with stacktest, trades are opened by delivering reservation-completed
// to the real consumer (as the push bridge does) and the parties act over HTTP; on any
// database (a stack's st.Kit.DB or testenv.DB), what is stored — the trade row and its
// history — is read back. Events and inbox rows are read with eventtest; rows are built
// with testfactory.
//
//	st := stacktest.Start(t)
//	deal := tradetest.Open(t, st)
//	tradetest.MustComplete(t, st, deal.ID, deal.Buyer.Token)
//	res := tradetest.Cancel(t, st, deal.ID, deal.Seller.Token, "PRODUCT_ISSUE", "")
package tradetest

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/devstack/stacktest"
	"github.com/8949market/market/shared/events"
	"github.com/8949market/market/shared/events/eventtest"
	"github.com/8949market/market/shared/testfactory"
	"github.com/8949market/market/shared/trades"
)

// The consumers of the trade domain, as registered.
const (
	ReservationCompleted = "trades-reservation-completed"
	ChatRoomCreated      = "trades-chat-room-created"
)

// Price is the price of the trades Open opens.
const Price = 7000

// User is a caller with a token; the account exists only in the token.
type User struct {
	auth.Identity
	Token string
}

// NewUser mints a token for a fresh user with role.
func NewUser(t testing.TB, st *stacktest.Stack, role auth.Role) User {
	t.Helper()
	token, who := st.Token(t, role)
	return User{Identity: who, Token: token}
}

// Deal is a trade under test and its parties.
type Deal struct {
	ID            uuid.UUID
	ReservationID uuid.UUID
	ProductID     uuid.UUID
	Buyer         User
	Seller        User
}

// Reservation is the reservation-completed payload of a fresh reservation between buyer
// and seller, priced Price.
func Reservation(buyer, seller auth.Identity) events.ReservationData {
	b := buyer.UserID
	return events.ReservationData{
		ReservationID: uuid.New(), ProductID: uuid.New(), Version: 3, Status: "COMPLETED",
		SellerID: seller.UserID, SellerNickname: seller.Nickname, BuyerID: &b, BuyerNickname: buyer.Nickname,
		Price: Price, ProductName: "Turntable",
	}
}

// Completed delivers reservation-completed d to trades-reservation-completed with a fresh
// event id, failing the test unless it is acknowledged.
func Completed(t testing.TB, st *stacktest.Stack, d events.ReservationData) {
	t.Helper()
	eventtest.MustDeliver(t, st, ReservationCompleted, events.ReservationCompleted, events.SourceReservations, uuid.New(), d)
}

// Open opens a trade between a fresh buyer and a fresh seller from reservation-completed.
func Open(t testing.TB, st *stacktest.Stack) Deal {
	t.Helper()
	return OpenBetween(t, st, NewUser(t, st, auth.RoleUser), NewUser(t, st, auth.RoleUser))
}

// OpenBetween opens a trade between buyer and seller from reservation-completed.
func OpenBetween(t testing.TB, st *stacktest.Stack, buyer, seller User) Deal {
	t.Helper()
	d := Reservation(buyer.Identity, seller.Identity)
	Completed(t, st, d)
	tr, ok := ByReservation(t, st.Kit.DB, d.ReservationID)
	if !ok {
		t.Fatalf("tradetest: no trade opened for reservation %s", d.ReservationID)
	}
	return Deal{ID: tr.ID, ReservationID: d.ReservationID, ProductID: d.ProductID, Buyer: buyer, Seller: seller}
}

// Path is the API path of trade id followed by suffix ("", "/complete", "/cancel").
func Path(id uuid.UUID, suffix string) string { return "/api/v1/trades/" + id.String() + suffix }

// Get is GET /api/v1/trades/{id} with token.
func Get(t testing.TB, st *stacktest.Stack, id uuid.UUID, token string) stacktest.Response {
	t.Helper()
	return st.Do(t, "GET", Path(id, ""), nil, token)
}

// MustGet reads the trade through the API and fails the test unless the answer is 200.
func MustGet(t testing.TB, st *stacktest.Stack, id uuid.UUID, token string) trades.Trade {
	t.Helper()
	return must(t, Get(t, st, id, token), "get")
}

// Complete is PATCH /api/v1/trades/{id}/complete with token.
func Complete(t testing.TB, st *stacktest.Stack, id uuid.UUID, token string) stacktest.Response {
	t.Helper()
	return st.Do(t, "PATCH", Path(id, "/complete"), nil, token)
}

// MustComplete completes and fails the test unless the answer is 200; it returns the trade.
func MustComplete(t testing.TB, st *stacktest.Stack, id uuid.UUID, token string) trades.Trade {
	t.Helper()
	return must(t, Complete(t, st, id, token), "complete")
}

// CancelBody is the body of a cancellation; an empty string leaves its field out.
func CancelBody(reasonType, detail string) map[string]string {
	body := map[string]string{}
	if reasonType != "" {
		body["cancelReasonType"] = reasonType
	}
	if detail != "" {
		body["cancelReasonDetail"] = detail
	}
	return body
}

// Cancel is PATCH /api/v1/trades/{id}/cancel with token and CancelBody(reasonType, detail).
func Cancel(t testing.TB, st *stacktest.Stack, id uuid.UUID, token, reasonType, detail string) stacktest.Response {
	t.Helper()
	return st.Do(t, "PATCH", Path(id, "/cancel"), CancelBody(reasonType, detail), token)
}

// MustCancel cancels and fails the test unless the answer is 200; it returns the trade.
func MustCancel(t testing.TB, st *stacktest.Stack, id uuid.UUID, token, reasonType, detail string) trades.Trade {
	t.Helper()
	return must(t, Cancel(t, st, id, token, reasonType, detail), "cancel")
}

func must(t testing.TB, res stacktest.Response, what string) trades.Trade {
	t.Helper()
	if res.Status != http.StatusOK {
		t.Fatalf("tradetest: %s: status %d: %s", what, res.Status, res.Body)
	}
	var tr trades.Trade
	res.Data(t, &tr)
	return tr
}

// Read returns the stored trade id.
func Read(t testing.TB, db testfactory.DB, id uuid.UUID) trades.Trade {
	t.Helper()
	tr, err := read(db, `id`, id)
	if err != nil {
		t.Fatalf("tradetest: read trade %s: %v", id, err)
	}
	return tr
}

// ByReservation returns the stored trade of reservation id, if there is one.
func ByReservation(t testing.TB, db testfactory.DB, id uuid.UUID) (trades.Trade, bool) {
	t.Helper()
	tr, err := read(db, `reservation_id`, id)
	if errors.Is(err, pgx.ErrNoRows) {
		return trades.Trade{}, false
	}
	if err != nil {
		t.Fatalf("tradetest: read trade of reservation %s: %v", id, err)
	}
	return tr, true
}

func read(db testfactory.DB, column string, id uuid.UUID) (trades.Trade, error) {
	var tr trades.Trade
	err := db.QueryRow(context.Background(), `
		SELECT id, reservation_id, status, buyer_id, buyer_nickname, buyer_status, seller_id, seller_nickname,
		       seller_status, product_id, product_name, product_price, chat_room_id, version, created_at, modified_at
		  FROM trades.trades WHERE `+column+` = $1`, id).
		Scan(&tr.ID, &tr.ReservationID, &tr.Status, &tr.BuyerID, &tr.BuyerNickname, &tr.BuyerStatus, &tr.SellerID,
			&tr.SellerNickname, &tr.SellerStatus, &tr.ProductID, &tr.ProductName, &tr.ProductPrice, &tr.ChatRoomID,
			&tr.Version, &tr.CreatedAt, &tr.ModifiedAt)
	return tr, err
}

// Count counts the stored trades of reservation id.
func Count(t testing.TB, db testfactory.DB, reservationID uuid.UUID) int {
	t.Helper()
	var n int
	if err := db.QueryRow(context.Background(),
		`SELECT count(*) FROM trades.trades WHERE reservation_id = $1`, reservationID).Scan(&n); err != nil {
		t.Fatalf("tradetest: count trades: %v", err)
	}
	return n
}

// Transition is a history row of a trade.
type Transition struct {
	From         *string
	To           string
	ActorID      *uuid.UUID
	ActorSide    *string
	ReasonType   *string
	ReasonDetail *string
}

// History returns the trade's history, oldest first.
func History(t testing.TB, db testfactory.DB, id uuid.UUID) []Transition {
	t.Helper()
	rows, err := db.Query(context.Background(), `
		SELECT previous_status, new_status, actor_id, actor_side, cancel_reason_type, cancel_reason_detail
		  FROM trades.history WHERE trade_id = $1 ORDER BY created_at, id`, id)
	if err != nil {
		t.Fatalf("tradetest: read history: %v", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Transition, error) {
		var h Transition
		err := row.Scan(&h.From, &h.To, &h.ActorID, &h.ActorSide, &h.ReasonType, &h.ReasonDetail)
		return h, err
	})
	if err != nil {
		t.Fatalf("tradetest: read history: %v", err)
	}
	return out
}

// WantTopics fails the test unless the events about aggregate id (a trade's, or a
// reservation's for reservation-tradefail) are exactly topics, in order.
func WantTopics(t testing.TB, db eventtest.DB, id uuid.UUID, topics ...string) []eventtest.Row {
	t.Helper()
	rows := eventtest.Outbox(t, db, id.String(), "")
	if got := eventtest.Topics(rows); !slices.Equal(got, topics) {
		t.Fatalf("tradetest: events of %s: %v, want %v", id, got, topics)
	}
	return rows
}
