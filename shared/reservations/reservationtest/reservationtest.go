// Package reservationtest drives reservations end to end for the tests of the reservation
// functions, on a stack started with stacktest: deals are opened (inserted directly, or
// listed through the products API and opened from product-created), users apply and act
// over HTTP, consumers receive CloudEvents as the push bridge delivers them, and what is
// stored (the reservation row, its applications, history and outbox events) is read from
// the stack's database.
//
//	st := stacktest.Start(t)
//	deal := reservationtest.Open(t, st, -time.Second, time.Hour)
//	buyer := reservationtest.NewUser(t, st, auth.RoleUser)
//	reservationtest.MustApply(t, st, deal.ID, buyer.Token)
//	res := reservationtest.Act(t, st, deal.ID, "cancel/buyer", reservationtest.Reason("changed my mind"), buyer.Token)
package reservationtest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/devstack/stacktest"
	"github.com/8949market/market/shared/events"
	"github.com/8949market/market/shared/events/eventtest"
	"github.com/8949market/market/shared/reservations"
	"github.com/8949market/market/shared/testfactory"
)

// User is a caller with a token; the account exists only in the token, as the
// reservation functions need nothing more.
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

// Users mints n fresh users with auth.RoleUser.
func Users(t testing.TB, st *stacktest.Stack, n int) []User {
	t.Helper()
	users := make([]User, n)
	for i := range users {
		users[i] = NewUser(t, st, auth.RoleUser)
	}
	return users
}

// Deal is a reservation under test and its seller.
type Deal struct {
	ID        uuid.UUID
	ProductID uuid.UUID
	Seller    User
}

// Open inserts a reservation whose window is [start, end) relative to the database clock,
// sold by a fresh seller, as product-created would have opened it.
func Open(t testing.TB, st *stacktest.Stack, start, end time.Duration) Deal {
	t.Helper()
	return OpenFor(t, st, NewUser(t, st, auth.RoleUser), "Camera", start, end)
}

// OpenFor is Open for a product named name sold by seller.
func OpenFor(t testing.TB, st *stacktest.Stack, seller User, name string, start, end time.Duration) Deal {
	t.Helper()
	r := testfactory.Reservation(context.Background(), t, st.Kit.DB, &testfactory.ReservationOpts{
		SellerID: seller.UserID, SellerNickname: seller.Nickname, ProductName: name, StartsIn: start, EndsIn: end})
	d := Deal{ID: r.ID, ProductID: r.ProductID, Seller: seller}
	return d
}

// Listed lists a product named name through POST /api/v1/products as a fresh seller,
// opening in a minute for an hour, waits for product-created to open its reservation,
// and then opens the reservation's window now, as if the start had come.
func Listed(t testing.TB, st *stacktest.Stack, name string) Deal {
	t.Helper()
	d := ListedAt(t, st, NewUser(t, st, auth.RoleUser), name, time.Now().Add(time.Minute))
	Exec(t, st, `UPDATE reservations.reservations SET start_time = clock_timestamp() - interval '1 second' WHERE id = $1`, d.ID)
	Forget(t, st, d.ID)
	return d
}

// ListedAt lists a product named name, priced 5000, through POST /api/v1/products as
// seller, opening at start for an hour; it waits for product-created to open the
// reservation and finds it by product (GET /api/v1/reservations?productId=).
func ListedAt(t testing.TB, st *stacktest.Stack, seller User, name string, start time.Time) Deal {
	t.Helper()
	start = start.UTC().Truncate(time.Millisecond)
	res := st.Do(t, "POST", "/api/v1/products", map[string]any{
		"name": name, "price": 5000,
		"startTime": start.Format(time.RFC3339Nano), "endTime": start.Add(time.Hour).Format(time.RFC3339Nano),
	}, seller.Token)
	if res.Status != http.StatusCreated {
		t.Fatalf("reservationtest: create product: status %d: %s", res.Status, res.Body)
	}
	var product struct {
		ProductID uuid.UUID `json:"productId"`
	}
	res.Data(t, &product)
	Settle(t, st)
	res = st.Do(t, "GET", "/api/v1/reservations?productId="+product.ProductID.String(), nil, seller.Token)
	if res.Status != http.StatusOK {
		t.Fatalf("reservationtest: no reservation for product %s: status %d: %s", product.ProductID, res.Status, res.Body)
	}
	var s reservations.Summary
	res.Data(t, &s)
	return Deal{ID: s.ReservationID, ProductID: product.ProductID, Seller: seller}
}

// Settle publishes the outbox and waits until every consumer has received it.
func Settle(t testing.TB, st *stacktest.Stack) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := st.Settle(ctx); err != nil {
		t.Fatalf("reservationtest: settle: %v", err)
	}
}

// On is where the readers and Exec work: a stack (its database) or a test's own
// database (testenv.DB), for the domain's rule tests.
type On interface {
	*stacktest.Stack | *pgxpool.Pool
}

// db is the database of on.
func db[S On](on S) *pgxpool.Pool {
	if st, ok := any(on).(*stacktest.Stack); ok {
		return st.Kit.DB
	}
	return any(on).(*pgxpool.Pool)
}

// Exec runs a statement on the database, for the changes a test makes by hand
// (a deadline or a window moved into the past).
func Exec[S On](t testing.TB, on S, sql string, args ...any) {
	t.Helper()
	if _, err := db(on).Exec(context.Background(), sql, args...); err != nil {
		t.Fatalf("reservationtest: %s: %v", sql, err)
	}
}

// Forget drops the reservation's admission state in Redis; the next apply rebuilds it.
func Forget(t testing.TB, st *stacktest.Stack, id uuid.UUID) {
	t.Helper()
	if err := reservations.NewQueue(st.Kit.DB, st.Kit.Redis, 0).Forget(context.Background(), id); err != nil {
		t.Fatalf("reservationtest: forget %s: %v", id, err)
	}
}

// MoveWindow sets the window relative to the database clock and drops the admission
// state, as a schedule change does.
func MoveWindow(t testing.TB, st *stacktest.Stack, id uuid.UUID, start, end time.Duration) {
	t.Helper()
	Exec(t, st, `
		UPDATE reservations.reservations
		   SET start_time = clock_timestamp() + make_interval(secs => $2),
		       end_time = clock_timestamp() + make_interval(secs => $3)
		 WHERE id = $1`, id, start.Seconds(), end.Seconds())
	Forget(t, st, id)
}

// PastDeadline moves the buyer's payment deadline a second into the past.
func PastDeadline[S On](t testing.TB, on S, id uuid.UUID) {
	t.Helper()
	Exec(t, on, `UPDATE reservations.reservations SET payment_deadline = clock_timestamp() - interval '1 second' WHERE id = $1`, id)
}

// Apply is PATCH /api/v1/reservations/{id} with token; the application is decoded when
// the answer is 200.
func Apply(t testing.TB, st *stacktest.Stack, id uuid.UUID, token string) (stacktest.Response, reservations.Application) {
	t.Helper()
	res := st.Do(t, "PATCH", "/api/v1/reservations/"+id.String(), nil, token)
	var app reservations.Application
	if res.Status == http.StatusOK {
		res.Data(t, &app)
	}
	return res, app
}

// MustApply applies and fails the test unless the answer is 200.
func MustApply(t testing.TB, st *stacktest.Stack, id uuid.UUID, token string) reservations.Application {
	t.Helper()
	res, app := Apply(t, st, id, token)
	if res.Status != http.StatusOK {
		t.Fatalf("reservationtest: apply to %s: status %d: %s", id, res.Status, res.Body)
	}
	return app
}

// Queue applies users to reservation id one after another and fails the test unless the
// first becomes the buyer and each later one waits at the next place.
func Queue(t testing.TB, st *stacktest.Stack, id uuid.UUID, users ...User) {
	t.Helper()
	for i, u := range users {
		app := MustApply(t, st, id, u.Token)
		switch {
		case i == 0 && app.Status != "SELECTED":
			t.Fatalf("reservationtest: first applicant: %+v, want SELECTED", app)
		case i > 0 && (app.Status != "WAITING" || app.Position != int64(i)):
			t.Fatalf("reservationtest: applicant %d: %+v, want WAITING at place %d", i, app, i)
		}
	}
}

// Completed applies users to deal in order (the first becomes the buyer), has an
// administrator confirm the payment and the seller complete it: the reservation is
// COMPLETED, handed to its trade, with the others still in line.
func Completed(t testing.TB, st *stacktest.Stack, deal Deal, users ...User) {
	t.Helper()
	Queue(t, st, deal.ID, users...)
	MustAct(t, st, deal.ID, "paymentconfirm", nil, NewUser(t, st, auth.RoleManager).Token)
	if d := MustAct(t, st, deal.ID, "complete", nil, deal.Seller.Token); d.Status != reservations.Completed {
		t.Fatalf("reservationtest: complete %s: status %s", deal.ID, d.Status)
	}
}

// Reason is the body of the actions that take a reason.
func Reason(r string) map[string]string { return map[string]string{"reason": r} }

// Act is PATCH /api/v1/reservations/{id}/{action} ("cancel/buyer", "cancel/seller",
// "paymentconfirm", "complete", "expire") with body and token.
func Act(t testing.TB, st *stacktest.Stack, id uuid.UUID, action string, body any, token string) stacktest.Response {
	t.Helper()
	return st.Do(t, "PATCH", "/api/v1/reservations/"+id.String()+"/"+action, body, token)
}

// MustAct acts and fails the test unless the answer is 200; it returns the detail.
func MustAct(t testing.TB, st *stacktest.Stack, id uuid.UUID, action string, body any, token string) reservations.Detail {
	t.Helper()
	res := Act(t, st, id, action, body, token)
	if res.Status != http.StatusOK {
		t.Fatalf("reservationtest: %s %s: status %d: %s", action, id, res.Status, res.Body)
	}
	var d reservations.Detail
	res.Data(t, &d)
	return d
}

// Get is GET /api/v1/reservations/{id} with token.
func Get(t testing.TB, st *stacktest.Stack, id uuid.UUID, token string) stacktest.Response {
	t.Helper()
	return st.Do(t, "GET", "/api/v1/reservations/"+id.String(), nil, token)
}

// MustGet reads the detail and fails the test unless the answer is 200.
func MustGet(t testing.TB, st *stacktest.Stack, id uuid.UUID, token string) reservations.Detail {
	t.Helper()
	res := Get(t, st, id, token)
	if res.Status != http.StatusOK {
		t.Fatalf("reservationtest: get %s: status %d: %s", id, res.Status, res.Body)
	}
	var d reservations.Detail
	res.Data(t, &d)
	return d
}

// Row is the reservation as stored.
type Row struct {
	Status          string
	BuyerID         *uuid.UUID
	BuyerNickname   *string
	BuyerPosition   *int64
	PaymentDeadline *time.Time
	Version         int64
	ProductName     string
	ProductPrice    int64
	StartTime       time.Time
	EndTime         time.Time
}

// Read returns the stored reservation id.
func Read[S On](t testing.TB, on S, id uuid.UUID) Row {
	t.Helper()
	var r Row
	err := db(on).QueryRow(context.Background(), `
		SELECT status, buyer_id, buyer_nickname, buyer_position, payment_deadline, version,
		       product_name, product_price, start_time, end_time
		  FROM reservations.reservations WHERE id = $1`, id).
		Scan(&r.Status, &r.BuyerID, &r.BuyerNickname, &r.BuyerPosition, &r.PaymentDeadline, &r.Version,
			&r.ProductName, &r.ProductPrice, &r.StartTime, &r.EndTime)
	if err != nil {
		t.Fatalf("reservationtest: read reservation %s: %v", id, err)
	}
	return r
}

// Applications returns the status of each applicant's application, by user.
func Applications[S On](t testing.TB, on S, id uuid.UUID) map[uuid.UUID]string {
	t.Helper()
	rows, err := db(on).Query(context.Background(),
		`SELECT user_id, status FROM reservations.applications WHERE reservation_id = $1`, id)
	if err != nil {
		t.Fatalf("reservationtest: read applications: %v", err)
	}
	defer rows.Close()
	out := map[uuid.UUID]string{}
	for rows.Next() {
		var u uuid.UUID
		var s string
		if err := rows.Scan(&u, &s); err != nil {
			t.Fatalf("reservationtest: read applications: %v", err)
		}
		out[u] = s
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("reservationtest: read applications: %v", err)
	}
	return out
}

// Transition is a history row.
type Transition struct {
	From, To  string
	Comment   string
	ChangedBy *uuid.UUID
}

// History returns the reservation's history, oldest first.
func History[S On](t testing.TB, on S, id uuid.UUID) []Transition {
	t.Helper()
	rows, err := db(on).Query(context.Background(), `
		SELECT previous_status, new_status, comment, changed_by
		  FROM reservations.history WHERE reservation_id = $1 ORDER BY changed_at, id`, id)
	if err != nil {
		t.Fatalf("reservationtest: read history: %v", err)
	}
	defer rows.Close()
	var out []Transition
	for rows.Next() {
		var h Transition
		if err := rows.Scan(&h.From, &h.To, &h.Comment, &h.ChangedBy); err != nil {
			t.Fatalf("reservationtest: read history: %v", err)
		}
		out = append(out, h)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("reservationtest: read history: %v", err)
	}
	return out
}

// Event is an outbox row of the reservation, with its payload decoded and kept raw.
type Event struct {
	ID    uuid.UUID
	Topic string
	Data  events.ReservationData
	Raw   map[string]any
}

// Events returns the events written for reservation id, in write order (the outbox as
// eventtest reads it, decoded as reservation events).
func Events[S On](t testing.TB, on S, id uuid.UUID) []Event {
	t.Helper()
	var out []Event
	for _, r := range eventtest.Outbox(t, db(on), id.String(), "") {
		e := Event{ID: r.ID, Topic: r.Topic}
		r.Decode(t, &e.Data)
		r.Decode(t, &e.Raw)
		out = append(out, e)
	}
	return out
}

// Topics lists the topics of events, in order.
func Topics(events []Event) []string {
	out := make([]string, len(events))
	for i, e := range events {
		out[i] = e.Topic
	}
	return out
}

// Created delivers product-created for product (a fresh seller, a window opening in an
// hour) to reservations-product-created, which opens its reservation.
func Created(t testing.TB, st *stacktest.Stack, product uuid.UUID) {
	t.Helper()
	start := time.Now().Add(time.Hour).UTC()
	eventtest.MustDeliver(t, st, "reservations-product-created", events.ProductCreated, events.SourceProducts, uuid.New(), events.ProductCreatedData{
		ProductID: product, Name: "Lamp", Price: 1000, SellerID: uuid.New(), SellerNickname: "seller",
		StartTime: start, EndTime: start.Add(time.Hour),
	})
}

var client = &http.Client{Timeout: 30 * time.Second}

// Sweep runs reservations-sweep once, as the scheduler does, and returns what it did.
func Sweep(t testing.TB, st *stacktest.Stack) reservations.SweepResult {
	t.Helper()
	res, err := sweep(st)
	if err != nil {
		t.Fatalf("reservationtest: sweep: %v", err)
	}
	return res
}

// SweepAtOnce runs n sweeps released together and returns their results.
func SweepAtOnce(t testing.TB, st *stacktest.Stack, n int) []reservations.SweepResult {
	t.Helper()
	start := make(chan struct{})
	results := make([]reservations.SweepResult, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			results[i], errs[i] = sweep(st)
		})
	}
	close(start)
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatalf("reservationtest: sweep: %v", err)
		}
	}
	return results
}

func sweep(st *stacktest.Stack) (reservations.SweepResult, error) {
	var out reservations.SweepResult
	res, err := client.Post(st.InternalURL("reservations-sweep"), "application/json", nil)
	if err != nil {
		return out, err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		return out, err
	}
	if res.StatusCode != http.StatusOK {
		return out, &statusError{res.StatusCode, string(raw)}
	}
	var env struct {
		Success bool                     `json:"success"`
		Data    reservations.SweepResult `json:"data"`
	}
	if err := json.Unmarshal(raw, &env); err != nil || !env.Success {
		return out, &statusError{res.StatusCode, string(raw)}
	}
	return env.Data, nil
}

type statusError struct {
	status int
	body   string
}

func (e *statusError) Error() string { return fmt.Sprintf("status %d: %s", e.status, e.body) }
