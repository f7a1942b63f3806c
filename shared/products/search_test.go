package products_test

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/8949market/market/shared/fault"
	"github.com/8949market/market/shared/page"
	"github.com/8949market/market/shared/products"
)

// searchRows is the size of the seeded catalogue.
const searchRows = 3000

// seedCatalogue inserts searchRows products in one statement: six sellers; names and
// descriptions from small vocabularies with mixed case and LIKE wildcards; 50 prices (so
// ~60 rows share each) plus the two extremes; starts every 5 minutes from now-150m to
// now+150m (~50 rows share each, some exactly now), windows of 15 to 60 minutes (some
// ending exactly now); every stored status; a buyer on some open and in-trade deals;
// creation instants shared by ~4 rows; every 97th row deleted. It returns every row.
func seedCatalogue(t *testing.T, f *fixture, now time.Time, sellers []uuid.UUID) []products.Product {
	t.Helper()
	ctx := context.Background()
	_, err := f.db.Exec(ctx, `
		INSERT INTO products.products
		  (id, seller_id, seller_nickname, name, description, price, status, start_time, end_time,
		   created_at, created_by, modified_at, modified_by, deleted_at, deleted_by, buyer_id)
		SELECT gen_random_uuid(), s, 'seller', n || ' #' || i, d, pr, st, sta, sta + (1 + i % 4) * interval '15 minutes',
		       $1::timestamptz - (i % 700) * interval '1 second', s, $1, s,
		       CASE WHEN i % 97 = 0 THEN $1::timestamptz END, CASE WHEN i % 97 = 0 THEN s END,
		       CASE WHEN st IN ('PENDING_RESERVATION', 'RESERVING', 'IN_TRADE') AND i % 11 = 0 THEN $3::uuid END
		  FROM generate_series(1, $4::int) AS i,
		       LATERAL (SELECT ($2::uuid[])[1 + i % cardinality($2::uuid[])] AS s,
		                       (ARRAY['Camera', 'camera bag', 'BICYCLE', 'Desk lamp', 'Guitar', '50% off kettle',
		                              'snake_case mug', '100 percent wool', 'snakeXcase mug', 'Sofa'])[1 + i % 10] AS n,
		                       (ARRAY['mint condition', 'Barely used CAMERA', 'with 5% discount code', 'a_b pattern',
		                              'aXb pattern', '', 'Vintage'])[1 + i % 7] AS d,
		                       CASE WHEN i = 1 THEN 1 WHEN i = 2 THEN 1000000000 ELSE 100 * (1 + (i * 13) % 50) END AS pr,
		                       CASE i % 19 WHEN 0 THEN 'IN_TRADE' WHEN 1 THEN 'COMPLETED' WHEN 2 THEN 'SALE_CANCELED'
		                                   WHEN 3 THEN 'EXPIRED' WHEN 4 THEN 'FAILED'
		                                   WHEN 5 THEN 'RESERVING' WHEN 6 THEN 'RESERVING' WHEN 7 THEN 'RESERVING' WHEN 8 THEN 'RESERVING'
		                                   ELSE 'PENDING_RESERVATION' END AS st,
		                       $1::timestamptz + ((i * 7) % 61 - 30) * interval '5 minutes' AS sta) AS x`,
		now, sellers, uuid.New(), searchRows)
	if err != nil {
		t.Fatalf("seed: %v", err)
	}
	rows, err := f.db.Query(ctx, `SELECT `+rawColumns+` FROM products.products`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var all []products.Product
	for rows.Next() {
		p, err := scanRaw(rows)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, p)
	}
	if err := rows.Err(); err != nil || len(all) != searchRows {
		t.Fatalf("seeded %d rows: %v", len(all), err)
	}
	return all
}

// expect is the Go-side search: the live rows matching q at now, in q's order.
func expect(all []products.Product, q products.Query, now time.Time) []products.Product {
	var out []products.Product
	for _, p := range all {
		open := p.Status == products.PendingReservation || p.Status == products.Reserving
		switch {
		case p.DeletedAt != nil,
			q.Status != "" && p.EffectiveStatus(now) != q.Status,
			q.SellerID != nil && p.SellerID != *q.SellerID,
			q.Text != "" && !strings.Contains(strings.ToLower(p.Name+" "+p.Description), strings.ToLower(q.Text)),
			q.MinPrice > 0 && p.Price < q.MinPrice,
			q.MaxPrice > 0 && p.Price > q.MaxPrice,
			// Open now: a deal on sale whose window contains now (a sold, cancelled or failed
			// deal is not open, whatever its window).
			q.OpenNow && !(open && !p.StartTime.After(now) && p.EndTime.After(now)),
			q.StartingWithin > 0 && !(p.StartTime.After(now) && !p.StartTime.After(now.Add(q.StartingWithin))):
			continue
		}
		out = append(out, p)
	}
	byID := func(a, b products.Product) int { return bytes.Compare(a.ID[:], b.ID[:]) }
	slices.SortFunc(out, func(a, b products.Product) int {
		switch q.Sort {
		case products.SortStart:
			return cmp.Or(a.StartTime.Compare(b.StartTime), byID(a, b))
		case products.SortPrice:
			return cmp.Or(cmp.Compare(a.Price, b.Price), byID(a, b))
		case products.SortPriceD:
			return -cmp.Or(cmp.Compare(a.Price, b.Price), byID(a, b))
		default:
			return -cmp.Or(a.CreatedAt.Compare(b.CreatedAt), byID(a, b))
		}
	})
	return out
}

// walk pages through q with size, checking the shape of every page, and returns every
// item in the order shown.
func walk(t *testing.T, store *products.Store, q products.Query, now time.Time, size, want int) []products.Item {
	t.Helper()
	var items []products.Item
	cursor := ""
	for pages := 0; ; pages++ {
		if pages > want/size+1 {
			t.Fatalf("size %d: more than %d pages for %d rows", size, pages, want)
		}
		p, err := store.Search(context.Background(), q, now, size, cursor)
		if err != nil {
			t.Fatalf("size %d, page %d: %v", size, pages+1, err)
		}
		if p.Size != size || len(p.Content) > size || p.HasNext != (p.NextCursor != "") || (p.HasNext && len(p.Content) != size) {
			t.Fatalf("size %d, page %d: %d items, size %d, hasNext %t, cursor %q", size, pages+1, len(p.Content), p.Size, p.HasNext, p.NextCursor)
		}
		items = append(items, p.Content...)
		if !p.HasNext {
			return items
		}
		cursor = p.NextCursor
	}
}

func itemOf(p products.Product, now time.Time) products.Item {
	return products.Item{
		ProductID: p.ID, Name: p.Name, Price: p.Price, Status: p.EffectiveStatus(now), SellerID: p.SellerID,
		StartTime: p.StartTime.UTC(), EndTime: p.EndTime.UTC(), CreatedAt: p.CreatedAt.UTC(),
	}
}

func sameItem(a, b products.Item) bool {
	return a.ProductID == b.ProductID && a.Name == b.Name && a.Price == b.Price && a.Status == b.Status &&
		a.SellerID == b.SellerID && a.StartTime.Equal(b.StartTime) && a.EndTime.Equal(b.EndTime) &&
		a.CreatedAt.Equal(b.CreatedAt) && a.StartTime.Location() == time.UTC && a.EndTime.Location() == time.UTC &&
		a.CreatedAt.Location() == time.UTC
}

// Every filter and combination, in every order, paged at several sizes, returns exactly
// the rows the Go-side filter over the seeded data expects, each once, in order.
func TestSearchAgainstSeededCatalogue(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	now := refNow()
	sellers := []uuid.UUID{uuid.New(), uuid.New(), uuid.New(), uuid.New(), uuid.New(), uuid.New()}
	all := seedCatalogue(t, f, now, sellers)
	deleted := map[uuid.UUID]bool{}
	for _, p := range all {
		if p.DeletedAt != nil {
			deleted[p.ID] = true
		}
	}
	seller := sellers[2]
	queries := []struct {
		name  string
		q     products.Query
		empty bool // the query is meant to match nothing
	}{
		{"everything", products.Query{}, false},
		{"status PENDING_RESERVATION", products.Query{Status: products.PendingReservation}, false},
		{"status RESERVING", products.Query{Status: products.Reserving}, false},
		{"status IN_TRADE", products.Query{Status: products.InTrade}, false},
		{"status COMPLETED", products.Query{Status: products.Completed}, false},
		{"status SALE_CANCELED", products.Query{Status: products.SaleCanceled}, false},
		{"status EXPIRED", products.Query{Status: products.Expired}, false},
		{"status FAILED", products.Query{Status: products.Failed}, false},
		{"seller", products.Query{SellerID: &seller}, false},
		{"unknown seller", products.Query{SellerID: ptr(uuid.New())}, true},
		{"text in name and description", products.Query{Text: "camera"}, false},
		{"text upper case", products.Query{Text: "CAMERA"}, false},
		{"text mixed case", products.Query{Text: "cAmErA bAg"}, false},
		{"text in description only", products.Query{Text: "vintage"}, false},
		{"text percent", products.Query{Text: "%"}, false},
		{"text 50%", products.Query{Text: "50%"}, false},
		{"text 5% (not 50%)", products.Query{Text: "5%"}, false},
		{"text underscore", products.Query{Text: "_"}, false},
		{"text snake_case (not snakeXcase)", products.Query{Text: "snake_case"}, false},
		{"text a_b (not aXb)", products.Query{Text: "a_b"}, false},
		{"text backslash", products.Query{Text: `\`}, true},
		{"text number", products.Query{Text: "#12"}, false},
		{"text no match", products.Query{Text: "zeppelin"}, true},
		{"min price", products.Query{MinPrice: 4000}, false},
		{"max price", products.Query{MaxPrice: 800}, false},
		{"price range", products.Query{MinPrice: 1500, MaxPrice: 2000}, false},
		{"one price", products.Query{MinPrice: 1500, MaxPrice: 1500}, false},
		{"top price", products.Query{MinPrice: 1_000_000_000}, false},
		{"bottom price", products.Query{MaxPrice: 1}, false},
		{"open now", products.Query{OpenNow: true}, false},
		{"starting within 2h", products.Query{StartingWithin: 2 * time.Hour}, false},
		{"starting within 5m (one start time)", products.Query{StartingWithin: 5 * time.Minute}, false},
		{"starting within 4m59s", products.Query{StartingWithin: 5*time.Minute - time.Second}, true},
		{"reserving, camera, cheap", products.Query{Status: products.Reserving, Text: "camera", MaxPrice: 3000}, false},
		{"seller, open now, min price", products.Query{SellerID: &seller, OpenNow: true, MinPrice: 2000}, false},
		{"pending, mug, within 1h", products.Query{Status: products.PendingReservation, Text: "MUG", StartingWithin: time.Hour}, false},
		{"expired, seller", products.Query{Status: products.Expired, SellerID: &seller}, false},
		{"reserving, open now", products.Query{Status: products.Reserving, OpenNow: true}, false},
		{"completed, price range", products.Query{Status: products.Completed, MinPrice: 1000, MaxPrice: 3000}, false},
		{"one price, one seller", products.Query{MinPrice: 1500, MaxPrice: 1500, SellerID: &seller}, false},
		{"open now and starting within", products.Query{OpenNow: true, StartingWithin: time.Hour}, true},
	}
	sorts := []products.Sort{products.SortNewest, products.SortStart, products.SortPrice, products.SortPriceD}
	for _, qq := range queries {
		for _, sort := range sorts {
			q := qq.q
			q.Sort = sort
			want := expect(all, q, now)
			t.Run(fmt.Sprintf("%s/%s", qq.name, sort), func(t *testing.T) {
				t.Parallel()
				if (len(want) == 0) != qq.empty {
					t.Fatalf("the seed gives %d rows for this query; the case expects empty=%t", len(want), qq.empty)
				}
				sizes := []int{100}
				if len(want) <= 700 {
					sizes = append(sizes, 7)
				}
				if len(want) <= 60 {
					sizes = append(sizes, 1)
				}
				for _, size := range sizes {
					got := walk(t, f.store, q, now, size, len(want))
					seen := map[uuid.UUID]bool{}
					for _, it := range got {
						if seen[it.ProductID] {
							t.Errorf("size %d: %s listed twice", size, it.ProductID)
						}
						seen[it.ProductID] = true
						if deleted[it.ProductID] {
							t.Errorf("size %d: deleted %s listed", size, it.ProductID)
						}
					}
					if len(got) != len(want) {
						t.Errorf("size %d: %d items, want %d", size, len(got), len(want))
					}
					for i := range min(len(got), len(want)) {
						if w := itemOf(want[i], now); !sameItem(got[i], w) {
							t.Errorf("size %d: item %d = %+v, want %+v", size, i, got[i], w)
							break
						}
					}
				}
			})
		}
	}
}

// A cursor is tied to its query and order; a cursor of another query, order or list, or
// one not made by the server, is refused with C015 on the cursor.
func TestSearchCursorOfAnotherQuery(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	now := refNow()
	seedCatalogue(t, f, now, []uuid.UUID{uuid.New(), uuid.New()})
	first := func(q products.Query) string {
		t.Helper()
		p, err := f.store.Search(ctx, q, now, 5, "")
		if err != nil || p.NextCursor == "" {
			t.Fatalf("first page of %+v: %v, cursor %q", q, err, p.NextCursor)
		}
		return p.NextCursor
	}
	byPrice := first(products.Query{Sort: products.SortPrice})
	newest := first(products.Query{Sort: products.SortNewest})
	text := first(products.Query{Text: "camera", Sort: products.SortStart})
	openNow := first(products.Query{OpenNow: true, Sort: products.SortStart})
	tests := []struct {
		name   string
		q      products.Query
		cursor string
	}{
		{"price cursor, another filter", products.Query{Sort: products.SortPrice, MinPrice: 1}, byPrice},
		{"price cursor, descending", products.Query{Sort: products.SortPriceD}, byPrice},
		{"newest cursor, start order", products.Query{Sort: products.SortStart}, newest},
		{"newest cursor, price order", products.Query{Sort: products.SortPrice}, newest},
		{"text cursor, other text", products.Query{Text: "lamp", Sort: products.SortStart}, text},
		{"text cursor, other status", products.Query{Text: "camera", Status: products.Reserving, Sort: products.SortStart}, text},
		{"another list's cursor", products.Query{Sort: products.SortNewest}, page.Encode("users:createdAt:desc", map[string]any{"id": uuid.New()})},
		{"not base64", products.Query{}, "not a cursor!"},
		{"base64 of nothing", products.Query{}, "e30"},
	}
	for _, tt := range tests {
		_, err := f.store.Search(ctx, tt.q, now, 5, tt.cursor)
		if f, ok := fault.As(err); !ok || f.Code != "C015" || f.Field != "cursor" {
			t.Errorf("%s: err = %v, want C015 on cursor", tt.name, err)
		}
	}
	// The relative filters are part of the query, not their instant: a client pages on
	// through "open now" a little later.
	if _, err := f.store.Search(ctx, products.Query{OpenNow: true, Sort: products.SortStart}, now.Add(time.Second), 5, openNow); err != nil {
		t.Errorf("open-now cursor a second later: %v", err)
	}
}

func TestParseQuery(t *testing.T) {
	t.Parallel()
	seller := uuid.New()
	tests := []struct {
		raw   string
		want  products.Query
		field string // "" = valid
	}{
		{"", products.Query{Sort: products.SortNewest}, ""},
		{"status=RESERVING", products.Query{Status: products.Reserving, Sort: products.SortNewest}, ""},
		{"status=expired", products.Query{Status: products.Expired, Sort: products.SortNewest}, ""},
		{"status=%20in_trade%20", products.Query{Status: products.InTrade, Sort: products.SortNewest}, ""},
		{"status=SOLD", products.Query{}, "status"},
		{"status=PENDING", products.Query{}, "status"},
		{"sellerId=" + seller.String(), products.Query{SellerID: &seller, Sort: products.SortNewest}, ""},
		{"sellerId=42", products.Query{}, "sellerId"},
		{"q=%20Camera%20", products.Query{Text: "Camera", Sort: products.SortNewest}, ""},
		{"q=%25_", products.Query{Text: "%_", Sort: products.SortNewest}, ""},
		{"q=" + strings.Repeat("책", 100), products.Query{Text: strings.Repeat("책", 100), Sort: products.SortNewest}, ""},
		{"q=" + strings.Repeat("a", 101), products.Query{}, "q"},
		{"minPrice=0", products.Query{Sort: products.SortNewest}, ""},
		{"minPrice=1000&maxPrice=1000", products.Query{MinPrice: 1000, MaxPrice: 1000, Sort: products.SortNewest}, ""},
		{"minPrice=5000", products.Query{MinPrice: 5000, Sort: products.SortNewest}, ""},
		{"maxPrice=1000000000", products.Query{MaxPrice: 1_000_000_000, Sort: products.SortNewest}, ""},
		{"minPrice=-1", products.Query{}, "minPrice"},
		{"minPrice=1.5", products.Query{}, "minPrice"},
		{"minPrice=abc", products.Query{}, "minPrice"},
		{"minPrice=1000000001", products.Query{}, "minPrice"},
		{"maxPrice=-1", products.Query{}, "maxPrice"},
		{"maxPrice=x", products.Query{}, "maxPrice"},
		{"maxPrice=1000000001", products.Query{}, "maxPrice"},
		{"minPrice=2000&maxPrice=1000", products.Query{}, "maxPrice"},
		{"openNow=true", products.Query{OpenNow: true, Sort: products.SortNewest}, ""},
		{"openNow=false", products.Query{Sort: products.SortNewest}, ""},
		{"openNow=yes", products.Query{}, "openNow"},
		{"startingWithin=2h", products.Query{StartingWithin: 2 * time.Hour, Sort: products.SortNewest}, ""},
		{"startingWithin=30m", products.Query{StartingWithin: 30 * time.Minute, Sort: products.SortNewest}, ""},
		{"startingWithin=8784h", products.Query{StartingWithin: 366 * 24 * time.Hour, Sort: products.SortNewest}, ""},
		{"startingWithin=8785h", products.Query{}, "startingWithin"},
		{"startingWithin=0s", products.Query{}, "startingWithin"},
		{"startingWithin=-1h", products.Query{}, "startingWithin"},
		{"startingWithin=2", products.Query{}, "startingWithin"},
		{"startingWithin=soon", products.Query{}, "startingWithin"},
		{"sort=newest", products.Query{Sort: products.SortNewest}, ""},
		{"sort=startTime", products.Query{Sort: products.SortStart}, ""},
		{"sort=startTime,asc", products.Query{Sort: products.SortStart}, ""},
		{"sort=price", products.Query{Sort: products.SortPrice}, ""},
		{"sort=price,asc", products.Query{Sort: products.SortPrice}, ""},
		{"sort=price,desc", products.Query{Sort: products.SortPriceD}, ""},
		{"sort=name", products.Query{}, "sort"},
		{"sort=price,up", products.Query{}, "sort"},
		{"status=FAILED&sellerId=" + seller.String() + "&q=lamp&minPrice=10&maxPrice=20&openNow=true&startingWithin=1h&sort=price,desc",
			products.Query{Status: products.Failed, SellerID: &seller, Text: "lamp", MinPrice: 10, MaxPrice: 20, OpenNow: true,
				StartingWithin: time.Hour, Sort: products.SortPriceD}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			t.Parallel()
			v, err := url.ParseQuery(tt.raw)
			if err != nil {
				t.Fatal(err)
			}
			got, err := products.ParseQuery(v)
			if tt.field != "" {
				if code(err) != "C015" || field(err) != tt.field {
					t.Fatalf("err = %v (field %q), want C015 on %s", err, field(err), tt.field)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			sameSeller := (got.SellerID == nil) == (tt.want.SellerID == nil) && (got.SellerID == nil || *got.SellerID == *tt.want.SellerID)
			got.SellerID, tt.want.SellerID = nil, nil
			if !sameSeller || got != tt.want {
				t.Errorf("ParseQuery = %+v, want %+v", got, tt.want)
			}
		})
	}
}
