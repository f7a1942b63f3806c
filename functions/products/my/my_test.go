package my_test

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/devstack/stacktest"
	"github.com/8949market/market/shared/page"
	"github.com/8949market/market/shared/products"
	"github.com/8949market/market/shared/products/producttest"
)

const myPath = "/api/v1/products/my"

// /my lists the caller's own products (the token's user, whatever sellerId the query
// names), with the search's filters, sorts and cursors.
func TestMyProducts(t *testing.T) {
	t.Parallel()
	st := stacktest.Start(t)
	meTok, me := st.Token(t, auth.RoleUser)
	otherTok, other := st.Token(t, auth.RoleUser)
	adminTok, admin := st.Token(t, auth.RoleMaster)
	producttest.Seed(t, st, 1500, me.UserID, other.UserID)
	rows := producttest.Live(t, st)
	mine, theirs := &me.UserID, &other.UserID

	tests := []struct {
		name   string
		token  string
		params url.Values
		want   producttest.Query // the oracle's query: the caller is the seller
	}{
		{"mine", meTok, nil, producttest.Query{Seller: mine}},
		{"mine, though sellerId names someone else", meTok, url.Values{"sellerId": {other.UserID.String()}}, producttest.Query{Seller: mine}},
		{"theirs", otherTok, nil, producttest.Query{Seller: theirs}},
		{"theirs, though sellerId names me", otherTok, url.Values{"sellerId": {me.UserID.String()}}, producttest.Query{Seller: theirs}},
		{"an administrator's own (none)", adminTok, url.Values{"sellerId": {me.UserID.String()}}, producttest.Query{Seller: &admin.UserID}},
		{"status RESERVING", meTok, producttest.Query{Status: products.Reserving}.Values(), producttest.Query{Seller: mine, Status: products.Reserving}},
		{"status EXPIRED", meTok, producttest.Query{Status: products.Expired}.Values(), producttest.Query{Seller: mine, Status: products.Expired}},
		{"status PENDING_RESERVATION", meTok, producttest.Query{Status: products.PendingReservation}.Values(), producttest.Query{Seller: mine, Status: products.PendingReservation}},
		{"status FAILED", meTok, producttest.Query{Status: products.Failed}.Values(), producttest.Query{Seller: mine, Status: products.Failed}},
		{"text", meTok, producttest.Query{Text: "Camera"}.Values(), producttest.Query{Seller: mine, Text: "Camera"}},
		{"price range", meTok, producttest.Query{Min: 10000, Max: 20000}.Values(), producttest.Query{Seller: mine, Min: 10000, Max: 20000}},
		{"open now", meTok, producttest.Query{OpenNow: true}.Values(), producttest.Query{Seller: mine, OpenNow: true}},
		{"starting within 2h, by start", meTok, producttest.Query{Within: 2 * time.Hour, Sort: "startTime"}.Values(), producttest.Query{Seller: mine, Within: 2 * time.Hour, Sort: "startTime"}},
		{"text and status, by price", otherTok, producttest.Query{Text: "leather", Status: products.Reserving, Sort: "price"}.Values(), producttest.Query{Seller: theirs, Text: "leather", Status: products.Reserving, Sort: "price"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			want := tt.want.Expect(rows, time.Now())
			if len(want) == 0 && *tt.want.Seller != admin.UserID {
				t.Fatalf("the seed gives this query nothing to find")
			}
			items := producttest.Collect(t, st, tt.token, myPath, tt.params, 100)
			producttest.WantItems(t, items, want, rows, time.Now())
		})
	}

	// Paging fifty at a time visits each of the caller's products once, in order, for
	// every sort.
	for _, sort := range []string{"", "startTime", "price", "price,desc"} {
		t.Run("paging, sort "+sort, func(t *testing.T) {
			t.Parallel()
			q := producttest.Query{Seller: mine, Sort: sort}
			want := q.Expect(rows, time.Now())
			if len(want) < 900 {
				t.Fatalf("%d products of mine, want about 1000", len(want))
			}
			producttest.WantItems(t, producttest.Collect(t, st, meTok, myPath, producttest.Query{Sort: sort}.Values(), 50), want, rows, time.Now())
		})
	}

	// A cursor is tied to the caller's own query: another user's cursor, or one of another
	// sort, is refused.
	t.Run("cursors", func(t *testing.T) {
		t.Parallel()
		var pg page.Page[products.Item]
		st.Do(t, "GET", myPath+"?size=5", nil, otherTok).Data(t, &pg)
		if pg.NextCursor == "" {
			t.Fatal("no next cursor")
		}
		c := url.QueryEscape(pg.NextCursor)
		st.Do(t, "GET", myPath+"?size=5&cursor="+c, nil, meTok).RefusedOn(t, http.StatusBadRequest, "C015", "cursor")
		st.Do(t, "GET", myPath+"?size=5&sort=price&cursor="+c, nil, otherTok).Refused(t, http.StatusBadRequest, "C015")
		if res := st.Do(t, "GET", myPath+"?size=5&cursor="+c, nil, otherTok); res.Status != http.StatusOK {
			t.Errorf("own cursor: status %d: %s", res.Status, res.Body)
		}
	})

	t.Run("bad parameters", func(t *testing.T) {
		t.Parallel()
		for _, params := range []string{"status=NOPE", "minPrice=-1", "minPrice=500&maxPrice=100", "startingWithin=abc", "sort=name", "size=0", "size=101", "sellerId=bob", "cursor=xyz"} {
			st.Do(t, "GET", myPath+"?"+params, nil, meTok).Refused(t, http.StatusBadRequest, "C015")
		}
	})

	t.Run("no token", func(t *testing.T) {
		t.Parallel()
		st.Do(t, "GET", myPath, nil, "").Refused(t, http.StatusUnauthorized, "C002")
	})
}

// Listed through the API, a product shows up in its seller's list at once, and not in
// anyone else's.
func TestMyListsWhatICreate(t *testing.T) {
	t.Parallel()
	st := stacktest.Start(t)
	meTok, me := st.Token(t, auth.RoleUser)
	otherTok, _ := st.Token(t, auth.RoleUser)

	var empty page.Page[products.Item]
	st.Do(t, "GET", myPath, nil, meTok).Data(t, &empty)
	if len(empty.Content) != 0 || empty.HasNext || empty.NextCursor != "" {
		t.Fatalf("a new seller's list = %+v, want empty", empty)
	}

	start := time.Now().Add(time.Hour).UTC()
	var created products.View
	st.Do(t, "POST", "/api/v1/products", map[string]any{
		"name": "Desk lamp", "price": 15000,
		"startTime": start.Format(time.RFC3339Nano), "endTime": start.Add(time.Hour).Format(time.RFC3339Nano),
	}, meTok).Data(t, &created)

	var pg page.Page[products.Item]
	st.Do(t, "GET", myPath, nil, meTok).Data(t, &pg)
	if len(pg.Content) != 1 {
		t.Fatalf("my list = %+v, want the new product", pg.Content)
	}
	it := pg.Content[0]
	if it.ProductID != created.ProductID || it.Name != "Desk lamp" || it.Price != 15000 || it.Status != products.PendingReservation ||
		it.SellerID != me.UserID || !it.StartTime.Equal(created.StartTime) || !it.EndTime.Equal(created.EndTime) || !it.CreatedAt.Equal(created.CreatedAt) {
		t.Errorf("item = %+v, created %+v", it, created)
	}
	st.Do(t, "GET", myPath, nil, otherTok).Data(t, &pg)
	if len(pg.Content) != 0 {
		t.Errorf("another user's list shows %+v", pg.Content)
	}
}
