// Package tradetest drives trades end to end for the tests of the trade functions, on a
// stack started with stacktest: trades are opened by delivering reservation-completed to
// the real consumer (as the push bridge does), the parties act over HTTP, and what is
// stored (the trade row, its history and the outbox events) is read from the stack's
// database.
//
//	st := stacktest.Start(t)
//	deal := tradetest.Open(t, st)
//	tradetest.MustComplete(t, st, deal.ID, deal.Buyer.Token)
//	res := tradetest.Cancel(t, st, deal.ID, deal.Seller.Token, "PRODUCT_ISSUE", "")
package tradetest

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/devstack/stacktest"
	"github.com/8949market/market/shared/events"
	rt "github.com/8949market/market/shared/reservations/reservationtest"
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
type User = rt.User

// NewUser mints a token for a fresh user with role.
func NewUser(t testing.TB, st *stacktest.Stack, role auth.Role) User {
	t.Helper()
	return rt.NewUser(t, st, role)
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

// Deliver posts reservation-completed (or any data) to consumer as a binary CloudEvent
// with event id, and returns the HTTP status.
func Deliver(t testing.TB, st *stacktest.Stack, consumer, topic, source string, eventID uuid.UUID, data any) int {
	t.Helper()
	return rt.Deliver(t, st, consumer, topic, source, eventID, data)
}

// MustDeliver delivers and fails the test unless the consumer acknowledged the event.
func MustDeliver(t testing.TB, st *stacktest.Stack, consumer, topic, source string, eventID uuid.UUID, data any) {
	t.Helper()
	if status := Deliver(t, st, consumer, topic, source, eventID, data); status/100 != 2 {
		t.Fatalf("tradetest: deliver %s to %s: status %d, want 2xx", topic, consumer, status)
	}
}

// Completed delivers reservation-completed d to trades-reservation-completed with a fresh
// event id, failing the test unless it is acknowledged.
func Completed(t testing.TB, st *stacktest.Stack, d events.ReservationData) {
	t.Helper()
	MustDeliver(t, st, ReservationCompleted, events.ReservationCompleted, events.SourceReservations, uuid.New(), d)
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
	tr, ok := ByReservation(t, st, d.ReservationID)
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
func Read(t testing.TB, st *stacktest.Stack, id uuid.UUID) trades.Trade {
	t.Helper()
	tr, err := read(st, `id`, id)
	if err != nil {
		t.Fatalf("tradetest: read trade %s: %v", id, err)
	}
	return tr
}

// ByReservation returns the stored trade of reservation id, if there is one.
func ByReservation(t testing.TB, st *stacktest.Stack, id uuid.UUID) (trades.Trade, bool) {
	t.Helper()
	tr, err := read(st, `reservation_id`, id)
	if errors.Is(err, pgx.ErrNoRows) {
		return trades.Trade{}, false
	}
	if err != nil {
		t.Fatalf("tradetest: read trade of reservation %s: %v", id, err)
	}
	return tr, true
}

func read(st *stacktest.Stack, column string, id uuid.UUID) (trades.Trade, error) {
	var tr trades.Trade
	err := st.Kit.DB.QueryRow(context.Background(), `
		SELECT id, reservation_id, status, buyer_id, buyer_nickname, buyer_status, seller_id, seller_nickname,
		       seller_status, product_id, product_name, product_price, chat_room_id, version, created_at, modified_at
		  FROM trades.trades WHERE `+column+` = $1`, id).
		Scan(&tr.ID, &tr.ReservationID, &tr.Status, &tr.BuyerID, &tr.BuyerNickname, &tr.BuyerStatus, &tr.SellerID,
			&tr.SellerNickname, &tr.SellerStatus, &tr.ProductID, &tr.ProductName, &tr.ProductPrice, &tr.ChatRoomID,
			&tr.Version, &tr.CreatedAt, &tr.ModifiedAt)
	return tr, err
}

// Count counts the stored trades of reservation id.
func Count(t testing.TB, st *stacktest.Stack, reservationID uuid.UUID) int {
	t.Helper()
	var n int
	if err := st.Kit.DB.QueryRow(context.Background(),
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
func History(t testing.TB, st *stacktest.Stack, id uuid.UUID) []Transition {
	t.Helper()
	rows, err := st.Kit.DB.Query(context.Background(), `
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

// Event is an outbox row, its payload kept raw.
type Event struct {
	ID      uuid.UUID
	Topic   string
	Source  string
	Payload []byte
}

// Trade decodes the payload of a trade event.
func (e Event) Trade(t testing.TB) events.TradeData {
	t.Helper()
	var d events.TradeData
	if err := json.Unmarshal(e.Payload, &d); err != nil {
		t.Fatalf("tradetest: decode %s payload: %v: %s", e.Topic, err, e.Payload)
	}
	return d
}

// TradeFail decodes the payload of reservation-tradefail.
func (e Event) TradeFail(t testing.TB) events.ReservationTradeFailData {
	t.Helper()
	var d events.ReservationTradeFailData
	if err := json.Unmarshal(e.Payload, &d); err != nil {
		t.Fatalf("tradetest: decode %s payload: %v: %s", e.Topic, err, e.Payload)
	}
	return d
}

// Events returns the outbox events written with aggregate id (a trade's id, or the
// reservation's for reservation-tradefail), in write order.
func Events(t testing.TB, st *stacktest.Stack, aggregateID uuid.UUID) []Event {
	t.Helper()
	rows, err := st.Kit.DB.Query(context.Background(), `
		SELECT id, topic, source, payload FROM messaging.outbox WHERE aggregate_id = $1 ORDER BY seq`, aggregateID.String())
	if err != nil {
		t.Fatalf("tradetest: read outbox: %v", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Event, error) {
		var e Event
		err := row.Scan(&e.ID, &e.Topic, &e.Source, &e.Payload)
		return e, err
	})
	if err != nil {
		t.Fatalf("tradetest: read outbox: %v", err)
	}
	return out
}

// Topics lists the topics of evs, in order.
func Topics(evs []Event) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = e.Topic
	}
	return out
}

// WantTopics fails the test unless the events of aggregate id are exactly topics, in order.
func WantTopics(t testing.TB, st *stacktest.Stack, id uuid.UUID, topics ...string) []Event {
	t.Helper()
	evs := Events(t, st, id)
	got := Topics(evs)
	if len(got) != len(topics) {
		t.Fatalf("tradetest: events of %s: %v, want %v", id, got, topics)
	}
	for i := range got {
		if got[i] != topics[i] {
			t.Fatalf("tradetest: events of %s: %v, want %v", id, got, topics)
		}
	}
	return evs
}

// InboxRows counts consumer's inbox rows for event id.
func InboxRows(t testing.TB, st *stacktest.Stack, consumer string, eventID uuid.UUID) int {
	t.Helper()
	return rt.InboxRows(t, st, consumer, eventID)
}
