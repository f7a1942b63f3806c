package list_test

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"testing"

	"github.com/google/uuid"

	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/devstack/stacktest"
	"github.com/8949market/market/shared/page"
	"github.com/8949market/market/shared/trades"
	"github.com/8949market/market/shared/trades/tradetest"
)

// list reads every page of GET /api/v1/trades with params, size at a time, and returns
// the ids in the order they came, failing the test if a trade is seen twice.
func list(t *testing.T, st *stacktest.Stack, token string, params url.Values, size int) []uuid.UUID {
	t.Helper()
	var ids []uuid.UUID
	seen := map[uuid.UUID]bool{}
	cursor := ""
	for pages := 0; ; pages++ {
		if pages > 50 {
			t.Fatalf("more than 50 pages")
		}
		q := url.Values{}
		for k, v := range params {
			q[k] = v
		}
		q.Set("size", strconv.Itoa(size))
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		var p page.Page[trades.Trade]
		st.Do(t, "GET", "/api/v1/trades?"+q.Encode(), nil, token).Data(t, &p)
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
		cursor = p.NextCursor
	}
}

// want fails the test unless got holds exactly the trades want, newest (last opened) first.
func want(t *testing.T, what string, got []uuid.UUID, want ...uuid.UUID) {
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
	st := stacktest.Start(t)
	me := tradetest.NewUser(t, st, auth.RoleUser)
	other := func() tradetest.User { return tradetest.NewUser(t, st, auth.RoleUser) }

	// Opened in this order: bought, sold, bought, sold, bought.
	b1 := tradetest.OpenBetween(t, st, me, other())
	s1 := tradetest.OpenBetween(t, st, other(), me)
	b2 := tradetest.OpenBetween(t, st, me, other())
	s2 := tradetest.OpenBetween(t, st, other(), me)
	b3 := tradetest.OpenBetween(t, st, me, other())
	strangers := tradetest.Open(t, st)

	tradetest.MustComplete(t, st, b2.ID, b2.Buyer.Token)
	tradetest.MustComplete(t, st, b2.ID, b2.Seller.Token)
	tradetest.MustCancel(t, st, s2.ID, s2.Buyer.Token, "REFUND_REQUEST", "")

	all := []uuid.UUID{b1.ID, s1.ID, b2.ID, s2.ID, b3.ID}
	want(t, "mine", list(t, st, me.Token, nil, 20), all...)
	want(t, "mine, two a page", list(t, st, me.Token, nil, 2), all...)
	want(t, "mine, one a page", list(t, st, me.Token, nil, 1), all...)
	want(t, "bought", list(t, st, me.Token, url.Values{"role": {"BUYER"}}, 2), b1.ID, b2.ID, b3.ID)
	want(t, "sold", list(t, st, me.Token, url.Values{"role": {"seller"}}, 2), s1.ID, s2.ID)
	want(t, "trading", list(t, st, me.Token, url.Values{"status": {"TRADING"}}, 2), b1.ID, s1.ID, b3.ID)
	want(t, "completed", list(t, st, me.Token, url.Values{"status": {"COMPLETED"}}, 2), b2.ID)
	want(t, "cancelled", list(t, st, me.Token, url.Values{"status": {"CANCELLED"}}, 2), s2.ID)
	want(t, "bought and trading", list(t, st, me.Token, url.Values{"status": {"TRADING"}, "role": {"BUYER"}}, 2), b1.ID, b3.ID)
	want(t, "sold and cancelled", list(t, st, me.Token, url.Values{"status": {"CANCELLED"}, "role": {"SELLER"}}, 2), s2.ID)
	want(t, "a stranger's", list(t, st, strangers.Buyer.Token, nil, 2), strangers.ID)
	want(t, "a newcomer's", list(t, st, tradetest.NewUser(t, st, auth.RoleUser).Token, nil, 2))

	for _, role := range []auth.Role{auth.RoleManager, auth.RoleMaster} {
		admin := tradetest.NewUser(t, st, role)
		want(t, string(role)+" sees all", list(t, st, admin.Token, nil, 2), append(all, strangers.ID)...)
		want(t, string(role)+" trading", list(t, st, admin.Token, url.Values{"status": {"TRADING"}}, 2), b1.ID, s1.ID, b3.ID, strangers.ID)
		// A role filter is about the caller's own side, administrators included.
		want(t, string(role)+" as buyer", list(t, st, admin.Token, url.Values{"role": {"BUYER"}}, 2))
	}
}

func TestListBadInput(t *testing.T) {
	t.Parallel()
	st := stacktest.Start(t)
	me := tradetest.NewUser(t, st, auth.RoleUser)
	for _, q := range []string{"status=DONE", "status=PENDING", "role=ADMIN", "role=SYSTEM", "role=owner"} {
		st.Do(t, "GET", "/api/v1/trades?"+q, nil, me.Token).Refused(t, http.StatusBadRequest, "C015")
	}
	for _, q := range []string{"size=0", "size=101", "size=x", "cursor=garbage"} {
		if res := st.Do(t, "GET", "/api/v1/trades?"+q, nil, me.Token); res.Status != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 400: %s", q, res.Status, res.Body)
		}
	}
	st.Do(t, "GET", "/api/v1/trades", nil, "").Refused(t, http.StatusUnauthorized, "C002")

	// A cursor belongs to its query: another filter or another caller cannot reuse it.
	for range 3 {
		tradetest.OpenBetween(t, st, me, tradetest.NewUser(t, st, auth.RoleUser))
	}
	var p page.Page[trades.Trade]
	st.Do(t, "GET", "/api/v1/trades?size=1", nil, me.Token).Data(t, &p)
	if !p.HasNext || p.NextCursor == "" {
		t.Fatalf("first page %+v, want a next cursor", p)
	}
	c := url.QueryEscape(p.NextCursor)
	for _, q := range []string{"size=1&status=TRADING&cursor=" + c, "size=1&role=BUYER&cursor=" + c} {
		if res := st.Do(t, "GET", "/api/v1/trades?"+q, nil, me.Token); res.Status != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 400: %s", q, res.Status, res.Body)
		}
	}
	if res := st.Do(t, "GET", "/api/v1/trades?size=1&cursor="+c, nil, tradetest.NewUser(t, st, auth.RoleUser).Token); res.Status != http.StatusBadRequest {
		t.Errorf("another caller's cursor: status %d, want 400: %s", res.Status, res.Body)
	}
}
