package producttest

import (
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/devstack/stacktest"
	"github.com/8949market/market/shared/products"
)

// Parties are the users of a change's tables: the seller, who lists the products and
// makes the changes, and another user, who reads them back.
type Parties struct {
	SellerToken string
	Seller      auth.Identity
	OtherToken  string
}

// NewParties mints tokens for a seller and another user, both with the USER role.
func NewParties(t testing.TB, st *stacktest.Stack) Parties {
	t.Helper()
	var p Parties
	p.SellerToken, p.Seller = st.Token(t, auth.RoleUser)
	p.OtherToken, _ = st.Token(t, auth.RoleUser)
	return p
}

// Change is a request that changes a product (its information, its window, a cancel or
// a delete), as OwnerOrAdmin, StateRules and RefusesBadInput send it.
type Change struct {
	Method string
	// Path is the change's route for the product id.
	Path func(id uuid.UUID) string
	// Malformed is the change's route with an id that is not a UUID.
	Malformed string
	// Request makes the body of one request (nil for none) and the check of an answer that
	// made the change.
	Request func() (body any, made Made)
	// Kept, if not nil, checks more of a product that OwnerOrAdmin's refused callers left
	// as it was.
	Kept func(t testing.TB, p products.View)
}

// Made checks the answer res to a change of p that was allowed, made by the user by.
type Made func(t testing.TB, res stacktest.Response, p products.View, by uuid.UUID)

// OwnerOrAdmin checks, as parallel subtests of t, that only the seller (by id) or an
// administrator may make the change: the seller, a MANAGER and a MASTER make it (and are
// recorded as making it); another user is refused with 403 P009 even when naming the
// seller in identity headers, which count for nothing, only the token does; no token is
// 401 C002, a malformed id 400 C015, an unknown id 404 P001. A refused request writes
// nothing, and Kept, if set, checks more of the product. Each case runs on a fresh
// product listed by who's seller.
func OwnerOrAdmin(t *testing.T, st *stacktest.Stack, who Parties, c Change) {
	t.Helper()
	managerTok, manager := st.Token(t, auth.RoleManager)
	masterTok, master := st.Token(t, auth.RoleMaster)
	malformed := func(uuid.UUID) string { return c.Malformed }
	unknown := func(uuid.UUID) string { return c.Path(uuid.New()) }
	for _, a := range []attempt{
		{name: "seller", token: who.SellerToken, status: 200, by: who.Seller.UserID},
		{name: "manager", token: managerTok, status: 200, by: manager.UserID},
		{name: "master", token: masterTok, status: 200, by: master.UserID},
		{name: "another user", token: who.OtherToken, status: 403, code: "P009"},
		{name: "another user naming the seller in identity headers", token: who.OtherToken, headers: Spoof(who.Seller), status: 403, code: "P009"},
		{name: "no token", status: 401, code: "C002"},
		{name: "no token, identity headers only", headers: Spoof(who.Seller), status: 401, code: "C002"},
		{name: "malformed id", token: who.SellerToken, path: malformed, status: 400, code: "C015"},
		{name: "unknown id", token: who.SellerToken, path: unknown, status: 404, code: "P001"},
	} {
		a.kept = c.Kept
		c.run(t, st, who.SellerToken, a)
	}
}

// attempt is one case of the tables: the change asked for by the holder of token (with
// headers) on a product listed by the seller and put in the state setup leaves it in
// (nil: as listed), to path (nil: the change's own) with body (nil: the change's own);
// then either the change made by by (status 200), or the refusal's status, code and
// field, nothing written, and kept (if not nil) checking more.
type attempt struct {
	name    string
	setup   Setup
	token   string
	headers map[string]string
	path    func(uuid.UUID) string
	body    any
	status  int
	code    string
	field   string
	by      uuid.UUID
	kept    func(t testing.TB, p products.View)
}

// run runs the attempt as a parallel subtest of t.
func (c Change) run(t *testing.T, st *stacktest.Stack, sellerToken string, a attempt) {
	t.Helper()
	t.Run(a.name, func(t *testing.T) {
		t.Parallel()
		p := List(t, st, sellerToken)
		if a.setup != nil {
			a.setup(t, st, p.ProductID, time.Now())
		}
		before := Capture(t, st, p.ProductID)
		body, made := c.Request()
		if a.body != nil {
			body = a.body
		}
		path := c.Path
		if a.path != nil {
			path = a.path
		}
		res := DoWith(t, st, c.Method, path(p.ProductID), body, a.token, a.headers)
		if a.status == http.StatusOK {
			made(t, res, p, a.by)
			return
		}
		res.RefusedOn(t, a.status, a.code, a.field)
		before.Unchanged(t, st, p.ProductID)
		if a.kept != nil {
			a.kept(t, p)
		}
	})
}

// Setup puts a freshly listed product in the state a case needs, relative to now.
type Setup func(t testing.TB, st *stacktest.Stack, id uuid.UUID, now time.Time)

// Listed is the Setup that leaves the product as listed: pending, opening in an hour.
func Listed(testing.TB, *stacktest.Stack, uuid.UUID, time.Time) {}

// Window is a Setup that moves the window to open start after now and close end after
// now (negative: before now), the stored status left as listed.
func Window(start, end time.Duration) Setup {
	return func(t testing.TB, st *stacktest.Stack, id uuid.UUID, now time.Time) {
		SetWindow(t, st, id, now.Add(start), now.Add(end))
	}
}

// StoredIn is a Setup that moves the window as Window does and writes the stored status.
func StoredIn(s products.Status, start, end time.Duration) Setup {
	return func(t testing.TB, st *stacktest.Stack, id uuid.UUID, now time.Time) {
		SetWindow(t, st, id, now.Add(start), now.Add(end))
		SetStatus(t, st, id, s)
	}
}

// WithBuyer is s followed by a buyer holding the reservation at version 1.
func WithBuyer(s Setup) Setup {
	return func(t testing.TB, st *stacktest.Stack, id uuid.UUID, now time.Time) {
		s(t, st, id, now)
		Hold(t, st, id, 1)
	}
}

// Deleted is a Setup that deletes the product through the API with token.
func Deleted(token string) Setup {
	return func(t testing.TB, st *stacktest.Stack, id uuid.UUID, _ time.Time) { Remove(t, st, token, id) }
}

// Case is a row of a state-rules table: a product in the state Setup leaves it in, and
// the answer to its seller's change: 200 (the change made) or the refusal's status and
// code.
type Case struct {
	Name   string
	Setup  Setup
	Status int
	Code   string
}

// StateRules runs the cases as parallel subtests of t, each on a fresh product listed by
// who's seller, who then asks for the change: an allowed one is checked by the change's
// Made; a refused one must write nothing.
func StateRules(t *testing.T, st *stacktest.Stack, who Parties, c Change, cases []Case) {
	t.Helper()
	for _, tt := range cases {
		c.run(t, st, who.SellerToken, attempt{
			name: tt.Name, setup: tt.Setup, token: who.SellerToken,
			status: tt.Status, code: tt.Code, by: who.Seller.UserID,
		})
	}
}

// Bad is a request body (not nil) that a change refuses, with the refusal's status, code
// and field ("" for none).
type Bad struct {
	Name   string
	Body   any
	Status int
	Code   string
	Field  string
}

// RefusesBadInput runs the cases as parallel subtests of t, each on a fresh product
// listed with token: the change with the case's body is refused as the case says, and
// nothing is written.
func RefusesBadInput(t *testing.T, st *stacktest.Stack, token string, c Change, cases []Bad) {
	t.Helper()
	for _, tt := range cases {
		c.run(t, st, token, attempt{
			name: tt.Name, token: token, body: tt.Body,
			status: tt.Status, code: tt.Code, field: tt.Field,
		})
	}
}
