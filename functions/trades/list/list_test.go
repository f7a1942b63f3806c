package list_test

import (
	"net/http"
	"testing"

	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/devstack/stacktest"
	"github.com/8949market/market/shared/page"
	"github.com/8949market/market/shared/trades"
	"github.com/8949market/market/shared/trades/tradetest"
)

// The route end to end: the query reaches the list (its filters, pages and refusals are
// tested in shared/trades) and the page is answered; a bad filter is C015, a bad size
// 400, a call without a token C002.
func TestList(t *testing.T) {
	t.Parallel()
	st := stacktest.Start(t)
	me := tradetest.NewUser(t, st, auth.RoleUser)
	first := tradetest.OpenBetween(t, st, me, tradetest.NewUser(t, st, auth.RoleUser))
	second := tradetest.OpenBetween(t, st, tradetest.NewUser(t, st, auth.RoleUser), me)
	tradetest.Open(t, st)

	var p page.Page[trades.Trade]
	st.Do(t, "GET", "/api/v1/trades?size=1&role=SELLER", nil, me.Token).Data(t, &p)
	if len(p.Content) != 1 || p.Content[0].ID != second.ID || p.HasNext {
		t.Fatalf("sold: %+v", p)
	}
	var all page.Page[trades.Trade]
	st.Do(t, "GET", "/api/v1/trades", nil, me.Token).Data(t, &all)
	if len(all.Content) != 2 || all.Content[0].ID != second.ID || all.Content[1].ID != first.ID {
		t.Fatalf("mine: %+v", all)
	}
	st.Do(t, "GET", "/api/v1/trades?status=DONE", nil, me.Token).Refused(t, http.StatusBadRequest, "C015")
	if res := st.Do(t, "GET", "/api/v1/trades?size=0", nil, me.Token); res.Status != http.StatusBadRequest {
		t.Errorf("size=0: status %d, want 400: %s", res.Status, res.Body)
	}
	st.Do(t, "GET", "/api/v1/trades", nil, "").Refused(t, http.StatusUnauthorized, "C002")
}
