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
	seed(t, st, 1500, me.UserID, other.UserID)
	rows := live(t, st)
	mine, theirs := &me.UserID, &other.UserID

	tests := []struct {
		name   string
		token  string
		params url.Values
		want   query // the oracle's query: the caller is the seller
	}{
		{"mine", meTok, nil, query{Seller: mine}},
		{"mine, though sellerId names someone else", meTok, url.Values{"sellerId": {other.UserID.String()}}, query{Seller: mine}},
		{"theirs", otherTok, nil, query{Seller: theirs}},
		{"theirs, though sellerId names me", otherTok, url.Values{"sellerId": {me.UserID.String()}}, query{Seller: theirs}},
		{"an administrator's own (none)", adminTok, url.Values{"sellerId": {me.UserID.String()}}, query{Seller: &admin.UserID}},
		{"status RESERVING", meTok, query{Status: products.Reserving}.values(), query{Seller: mine, Status: products.Reserving}},
		{"status EXPIRED", meTok, query{Status: products.Expired}.values(), query{Seller: mine, Status: products.Expired}},
		{"status PENDING_RESERVATION", meTok, query{Status: products.PendingReservation}.values(), query{Seller: mine, Status: products.PendingReservation}},
		{"status FAILED", meTok, query{Status: products.Failed}.values(), query{Seller: mine, Status: products.Failed}},
		{"text", meTok, query{Text: "Camera"}.values(), query{Seller: mine, Text: "Camera"}},
		{"price range", meTok, query{Min: 10000, Max: 20000}.values(), query{Seller: mine, Min: 10000, Max: 20000}},
		{"open now", meTok, query{OpenNow: true}.values(), query{Seller: mine, OpenNow: true}},
		{"starting within 2h, by start", meTok, query{Within: 2 * time.Hour, Sort: "startTime"}.values(), query{Seller: mine, Within: 2 * time.Hour, Sort: "startTime"}},
		{"text and status, by price", otherTok, query{Text: "leather", Status: products.Reserving, Sort: "price"}.values(), query{Seller: theirs, Text: "leather", Status: products.Reserving, Sort: "price"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			want := tt.want.expect(rows, time.Now())
			if len(want) == 0 && *tt.want.Seller != admin.UserID {
				t.Fatalf("the seed gives this query nothing to find")
			}
			items := collect(t, st, tt.token, myPath, tt.params, 100)
			check(t, items, want, rows, time.Now())
		})
	}

	// Paging fifty at a time visits each of the caller's products once, in order, for
	// every sort.
	for _, sort := range []string{"", "startTime", "price", "price,desc"} {
		t.Run("paging, sort "+sort, func(t *testing.T) {
			t.Parallel()
			q := query{Seller: mine, Sort: sort}
			want := q.expect(rows, time.Now())
			if len(want) < 900 {
				t.Fatalf("%d products of mine, want about 1000", len(want))
			}
			check(t, collect(t, st, meTok, myPath, query{Sort: sort}.values(), 50), want, rows, time.Now())
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
		e := wantError(t, st.Do(t, "GET", myPath+"?size=5&cursor="+c, nil, meTok), http.StatusBadRequest, "C015")
		if e.Field == nil || *e.Field != "cursor" {
			t.Errorf("field = %v, want cursor", e.Field)
		}
		wantError(t, st.Do(t, "GET", myPath+"?size=5&sort=price&cursor="+c, nil, otherTok), http.StatusBadRequest, "C015")
		if res := st.Do(t, "GET", myPath+"?size=5&cursor="+c, nil, otherTok); res.Status != http.StatusOK {
			t.Errorf("own cursor: status %d: %s", res.Status, res.Body)
		}
	})

	t.Run("bad parameters", func(t *testing.T) {
		t.Parallel()
		for _, params := range []string{"status=NOPE", "minPrice=-1", "minPrice=500&maxPrice=100", "startingWithin=abc", "sort=name", "size=0", "size=101", "sellerId=bob", "cursor=xyz"} {
			wantError(t, st.Do(t, "GET", myPath+"?"+params, nil, meTok), http.StatusBadRequest, "C015")
		}
	})

	t.Run("no token", func(t *testing.T) {
		t.Parallel()
		wantError(t, st.Do(t, "GET", myPath, nil, ""), http.StatusUnauthorized, "C002")
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
