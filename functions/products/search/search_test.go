package search_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/devstack/stacktest"
	"github.com/8949market/market/shared/page"
	"github.com/8949market/market/shared/products"
	"github.com/8949market/market/shared/products/producttest"
)

const searchPath = "/api/v1/products"

// seeded starts a stack with n products of two new sellers, a and b, seeded by
// producttest.Seed, and mints a reader's token.
func seeded(t *testing.T, n int) (st *stacktest.Stack, reader string, a, b uuid.UUID) {
	t.Helper()
	st = stacktest.Start(t)
	reader, _ = st.Token(t, auth.RoleUser)
	a, b = uuid.New(), uuid.New()
	producttest.Seed(t, st, n, a, b)
	return st, reader, a, b
}

// Over three thousand products in every state, each filter and some combinations list
// exactly the live products the oracle selects, in order, with their effective status.
func TestSearchFilters(t *testing.T) {
	t.Parallel()
	st, reader, a, b := seeded(t, 3000)
	rows := producttest.Live(t, st)

	tests := []struct {
		name string
		q    producttest.Query
	}{
		{"everything", producttest.Query{}},
		{"status PENDING_RESERVATION", producttest.Query{Status: products.PendingReservation}},
		{"status RESERVING (open windows and held deals)", producttest.Query{Status: products.Reserving}},
		{"status IN_TRADE", producttest.Query{Status: products.InTrade}},
		{"status COMPLETED", producttest.Query{Status: products.Completed}},
		{"status SALE_CANCELED", producttest.Query{Status: products.SaleCanceled}},
		{"status EXPIRED (ticked or not)", producttest.Query{Status: products.Expired}},
		{"status FAILED", producttest.Query{Status: products.Failed}},
		{"seller", producttest.Query{Seller: &b}},
		{"text in the name, any case", producttest.Query{Text: "vintage camera"}},
		{"text in the description, any case", producttest.Query{Text: "leather"}},
		{"text across name and description", producttest.Query{Text: "ITEM"}},
		{"percent sign is literal", producttest.Query{Text: "%"}},
		{"underscore is literal", producttest.Query{Text: "_"}},
		{"text nobody wrote", producttest.Query{Text: "zeppelin"}},
		{"min price", producttest.Query{Min: 40000}},
		{"max price", producttest.Query{Max: 5000}},
		{"price range", producttest.Query{Min: 10000, Max: 12000}},
		{"exact price", producttest.Query{Min: 25000, Max: 25000}},
		{"open now", producttest.Query{OpenNow: true}},
		{"starting within 2h", producttest.Query{Within: 2 * time.Hour}},
		{"reserving, one seller, from a price", producttest.Query{Status: products.Reserving, Seller: &a, Min: 20000}},
		{"text and open now", producttest.Query{Text: "camera", OpenNow: true}},
		{"starting within 2h under a price, by price", producttest.Query{Within: 2 * time.Hour, Max: 30000, Sort: "price"}},
		{"expired with text, by start", producttest.Query{Status: products.Expired, Text: "item", Sort: "startTime"}},
		{"seller, text and price range, dearest first", producttest.Query{Seller: &a, Text: "leather", Min: 5000, Max: 45000, Sort: "price,desc"}},
		{"pending of a seller opening within 2h", producttest.Query{Status: products.PendingReservation, Seller: &b, Within: 2 * time.Hour}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			want := tt.q.Expect(rows, time.Now())
			if len(want) == 0 && tt.q.Text != "zeppelin" {
				t.Fatalf("the seed gives this filter nothing to find")
			}
			items := producttest.Collect(t, st, reader, searchPath, tt.q.Values(), 100)
			producttest.WantItems(t, items, want, rows, time.Now())
		})
	}

	t.Run("status is read in any case", func(t *testing.T) {
		t.Parallel()
		items := producttest.Collect(t, st, reader, searchPath, url.Values{"status": {"in_trade"}}, 100)
		producttest.WantItems(t, items, producttest.Query{Status: products.InTrade}.Expect(rows, time.Now()), rows, time.Now())
	})

	t.Run("default page", func(t *testing.T) {
		t.Parallel()
		var pg page.Page[products.Item]
		st.Do(t, "GET", searchPath, nil, reader).Data(t, &pg)
		if pg.Size != 20 || len(pg.Content) != 20 || !pg.HasNext || pg.NextCursor == "" {
			t.Errorf("default page: size %d, %d items, hasNext %v", pg.Size, len(pg.Content), pg.HasNext)
		}
		producttest.WantItems(t, pg.Content, producttest.Query{}.Expect(rows, time.Now())[:20], rows, time.Now())
	})

	// The list item is the product's summary.
	t.Run("item fields", func(t *testing.T) {
		t.Parallel()
		res := st.Do(t, "GET", searchPath+"?size=1", nil, reader)
		var env struct {
			Data struct {
				Content []map[string]json.RawMessage `json:"content"`
			} `json:"data"`
		}
		if err := json.Unmarshal(res.Body, &env); err != nil || len(env.Data.Content) != 1 {
			t.Fatalf("page: %v: %s", err, res.Body)
		}
		for _, k := range []string{"productId", "name", "price", "status", "sellerId", "startTime", "endTime", "createdAt"} {
			if _, ok := env.Data.Content[0][k]; !ok {
				t.Errorf("item lacks %q: %s", k, res.Body)
			}
		}
	})

	t.Run("no token", func(t *testing.T) {
		t.Parallel()
		st.Do(t, "GET", searchPath, nil, "").Refused(t, http.StatusUnauthorized, "C002")
	})
}

// Paging through two thousand products fifty at a time visits each exactly once, in the
// order of the sort, for every sort; ties (same price, same start, same creation time)
// are broken by the id, so no page boundary loses or repeats a product.
func TestSearchPaging(t *testing.T) {
	t.Parallel()
	st, reader, a, _ := seeded(t, 3000)
	rows := producttest.Live(t, st)

	for _, sort := range []string{"", "newest", "startTime", "price", "price,desc", "price,asc", "startTime,asc"} {
		t.Run("sort "+sort, func(t *testing.T) {
			t.Parallel()
			q := producttest.Query{Seller: &a, Sort: sort}
			want := q.Expect(rows, time.Now())
			if len(want) < 1900 {
				t.Fatalf("%d matching products, want about 2000", len(want))
			}
			producttest.WantItems(t, producttest.Collect(t, st, reader, searchPath, q.Values(), 50), want, rows, time.Now())
		})
	}

	// A filter on the effective status pages the same way.
	t.Run("reserving by start", func(t *testing.T) {
		t.Parallel()
		q := producttest.Query{Status: products.Reserving, Sort: "startTime"}
		producttest.WantItems(t, producttest.Collect(t, st, reader, searchPath, q.Values(), 7), q.Expect(rows, time.Now()), rows, time.Now())
	})
}

// Bad parameters are 400 C015 naming the parameter, never a 500 and never an empty page.
func TestSearchRefusesBadParameters(t *testing.T) {
	t.Parallel()
	st, reader, a, b := seeded(t, 200)

	cursorOf := func(params string) string {
		var pg page.Page[products.Item]
		st.Do(t, "GET", searchPath+"?"+params, nil, reader).Data(t, &pg)
		if pg.NextCursor == "" {
			t.Fatalf("%s: no next cursor", params)
		}
		return url.QueryEscape(pg.NextCursor)
	}
	byPrice := cursorOf("size=5&sort=price")
	newest := cursorOf("size=5")
	ofSeller := cursorOf("size=5&sellerId=" + a.String())

	tests := []struct {
		name, params, field string
	}{
		{"unknown status", "status=NOPE", "status"},
		{"negative min price", "minPrice=-1", "minPrice"},
		{"min price not a number", "minPrice=cheap", "minPrice"},
		{"max price too high", "maxPrice=1000000001", "maxPrice"},
		{"max below min", "minPrice=5000&maxPrice=1000", "maxPrice"},
		{"starting within not a duration", "startingWithin=abc", "startingWithin"},
		{"starting within negative", "startingWithin=-1h", "startingWithin"},
		{"starting within zero", "startingWithin=0s", "startingWithin"},
		{"open now not a boolean", "openNow=maybe", "openNow"},
		{"seller not a uuid", "sellerId=alice", "sellerId"},
		{"text too long", "q=" + strings.Repeat("x", 101), "q"},
		{"unknown sort", "sort=name", "sort"},
		{"sort descending start", "sort=startTime,desc", "sort"},
		{"size zero", "size=0", "size"},
		{"size negative", "size=-1", "size"},
		{"size over 100", "size=101", "size"},
		{"size not a number", "size=ten", "size"},
		{"garbage cursor", "cursor=abc", "cursor"},
		{"cursor of another sort", "size=5&sort=startTime&cursor=" + byPrice, "cursor"},
		{"cursor of another sort, newest", "size=5&sort=price&cursor=" + newest, "cursor"},
		{"cursor of another filter", "size=5&sort=price&minPrice=100&cursor=" + byPrice, "cursor"},
		{"cursor of another seller", "size=5&sellerId=" + b.String() + "&cursor=" + ofSeller, "cursor"},
		{"cursor of one seller without it", "size=5&cursor=" + ofSeller, "cursor"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			st.Do(t, "GET", searchPath+"?"+tt.params, nil, reader).RefusedOn(t, http.StatusBadRequest, "C015", tt.field)
		})
	}

	// The same cursors go on with the query they were made for; the size may change.
	for _, params := range []string{"size=5&sort=price&cursor=" + byPrice, "size=9&cursor=" + newest, "sellerId=" + a.String() + "&cursor=" + ofSeller} {
		if res := st.Do(t, "GET", searchPath+"?"+params, nil, reader); res.Status != http.StatusOK {
			t.Errorf("%s: status %d: %s", params, res.Status, res.Body)
		}
	}
}
