package producttest

import (
	"bytes"
	"cmp"
	"context"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/8949market/market/shared/devstack/stacktest"
	"github.com/8949market/market/shared/page"
	"github.com/8949market/market/shared/products"
)

// Seed inserts n products straight into the table with one statement, spread over every
// state, window and price so that each filter selects a known part of them. Seller a has
// two thirds of them, seller b the rest; one in fifty is deleted. Every time that a
// filter compares with the clock is at least five minutes away from the boundary, so the
// answers cannot change while the test runs.
//
// By g mod 8: 0 pending, opening 15..205 minutes from now (never within 5 minutes of
// 2h); 1 window open, stored PENDING (tick not run); 2 window open, stored RESERVING;
// 3 closed with no buyer, stored PENDING (reads EXPIRED); 4 closed while a buyer holds
// it (reads RESERVING); 5 IN_TRADE; 6 EXPIRED; 7 COMPLETED, SALE_CANCELED or FAILED.
func Seed(t testing.TB, st *stacktest.Stack, n int, a, b uuid.UUID) {
	t.Helper()
	_, err := st.Kit.DB.Exec(context.Background(), `
		INSERT INTO products.products
		  (id, seller_id, seller_nickname, name, description, price, status, start_time, end_time,
		   created_at, created_by, modified_at, modified_by, buyer_id, deleted_at, deleted_by)
		SELECT gen_random_uuid(), s.seller, 'nick',
		       CASE WHEN g % 250 = 0 THEN 'Wool 100% pure #' || g
		            WHEN g % 333 = 0 THEN 'snake_case item #' || g
		            WHEN g % 10 = 0 THEN 'Vintage Camera #' || g
		            ELSE 'Item #' || g END,
		       CASE WHEN g % 7 = 0 THEN 'comes with a LEATHER strap' ELSE 'plain' END,
		       ((g * 37) % 500 + 1) * 100,
		       CASE g % 8 WHEN 0 THEN 'PENDING_RESERVATION' WHEN 1 THEN 'PENDING_RESERVATION'
		                  WHEN 2 THEN 'RESERVING' WHEN 3 THEN 'PENDING_RESERVATION' WHEN 4 THEN 'RESERVING'
		                  WHEN 5 THEN 'IN_TRADE' WHEN 6 THEN 'EXPIRED'
		                  ELSE (ARRAY['COMPLETED', 'SALE_CANCELED', 'FAILED'])[(g / 8) % 3 + 1] END,
		       w.s,
		       CASE g % 8 WHEN 0 THEN w.s + interval '1 hour'
		                  WHEN 1 THEN now() + make_interval(mins => 30 + g % 5)
		                  WHEN 2 THEN now() + interval '50 minutes'
		                  WHEN 5 THEN now() + interval '1 hour'
		                  ELSE now() - interval '2 hours' END,
		       now() - make_interval(secs => g / 2), s.seller, now(), s.seller,
		       CASE WHEN g % 8 IN (4, 5) THEN gen_random_uuid() END,
		       CASE WHEN g % 50 = 1 THEN now() END,
		       CASE WHEN g % 50 = 1 THEN s.seller END
		  FROM generate_series(1, $3::int) g
		 CROSS JOIN LATERAL (SELECT CASE WHEN g % 3 = 0 THEN $2::uuid ELSE $1::uuid END AS seller) s
		 CROSS JOIN LATERAL (SELECT CASE g % 8
		        WHEN 0 THEN now() + make_interval(mins => 15 + (g % 20) * 10)
		        WHEN 1 THEN now() - interval '30 minutes'
		        WHEN 2 THEN now() - make_interval(mins => 10 + g % 3)
		        WHEN 5 THEN now() - interval '1 hour'
		        ELSE now() - interval '3 hours' END AS s) w`, a, b, n)
	if err != nil {
		t.Fatalf("producttest: seed: %v", err)
	}
}

// Entry is a live product as stored: the oracle the answers are checked against.
type Entry struct {
	ID                  uuid.UUID
	Name, Description   string
	Price               int64
	Status              products.Status
	SellerID            uuid.UUID
	Start, End, Created time.Time
	HasBuyer            bool
}

// Live reads every live (not deleted) product, by id.
func Live(t testing.TB, st *stacktest.Stack) map[uuid.UUID]Entry {
	t.Helper()
	rows, err := st.Kit.DB.Query(context.Background(), `
		SELECT id, name, description, price, status, seller_id, start_time, end_time, created_at, buyer_id IS NOT NULL
		  FROM products.products WHERE deleted_at IS NULL`)
	if err != nil {
		t.Fatalf("producttest: live products: %v", err)
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Entry, error) {
		var x Entry
		err := r.Scan(&x.ID, &x.Name, &x.Description, &x.Price, &x.Status, &x.SellerID, &x.Start, &x.End, &x.Created, &x.HasBuyer)
		return x, err
	})
	if err != nil {
		t.Fatalf("producttest: live products: %v", err)
	}
	out := make(map[uuid.UUID]Entry, len(list))
	for _, x := range list {
		out[x.ID] = x
	}
	return out
}

// Effective is the status a read must report at now: the window opens at start and
// closes at end; a buyer holds a closed deal in RESERVING.
func (r Entry) Effective(now time.Time) products.Status {
	if r.Status != products.PendingReservation && r.Status != products.Reserving {
		return r.Status
	}
	switch {
	case now.Before(r.Start):
		return products.PendingReservation
	case now.Before(r.End) || r.HasBuyer:
		return products.Reserving
	default:
		return products.Expired
	}
}

// Query is a search as the oracle understands it, and as query parameters.
type Query struct {
	Status   products.Status
	Seller   *uuid.UUID
	Text     string
	Min, Max int64
	OpenNow  bool
	Within   time.Duration
	Sort     string
}

// Values is the query as the API's parameters.
func (q Query) Values() url.Values {
	v := url.Values{}
	if q.Status != "" {
		v.Set("status", string(q.Status))
	}
	if q.Seller != nil {
		v.Set("sellerId", q.Seller.String())
	}
	if q.Text != "" {
		v.Set("q", q.Text)
	}
	if q.Min > 0 {
		v.Set("minPrice", strconv.FormatInt(q.Min, 10))
	}
	if q.Max > 0 {
		v.Set("maxPrice", strconv.FormatInt(q.Max, 10))
	}
	if q.OpenNow {
		v.Set("openNow", "true")
	}
	if q.Within > 0 {
		v.Set("startingWithin", q.Within.String())
	}
	if q.Sort != "" {
		v.Set("sort", q.Sort)
	}
	return v
}

func (q Query) matches(r Entry, now time.Time) bool {
	open := r.Status == products.PendingReservation || r.Status == products.Reserving
	text := strings.ToLower(r.Name + " " + r.Description)
	return (q.Status == "" || r.Effective(now) == q.Status) &&
		(q.Seller == nil || r.SellerID == *q.Seller) &&
		(q.Text == "" || strings.Contains(text, strings.ToLower(q.Text))) &&
		(q.Min == 0 || r.Price >= q.Min) &&
		(q.Max == 0 || r.Price <= q.Max) &&
		(!q.OpenNow || (open && !r.Start.After(now) && now.Before(r.End))) &&
		(q.Within == 0 || (r.Start.After(now) && !r.Start.After(now.Add(q.Within))))
}

// less is the sort order, each ending with the id (compared as PostgreSQL does: bytes).
func (q Query) less(a, b Entry) int {
	id := bytes.Compare(a.ID[:], b.ID[:])
	switch q.Sort {
	case "startTime", "startTime,asc":
		if c := a.Start.Compare(b.Start); c != 0 {
			return c
		}
		return id
	case "price", "price,asc":
		if a.Price != b.Price {
			return cmp.Compare(a.Price, b.Price)
		}
		return id
	case "price,desc":
		if a.Price != b.Price {
			return -cmp.Compare(a.Price, b.Price)
		}
		return -id
	default: // newest
		if c := b.Created.Compare(a.Created); c != 0 {
			return c
		}
		return -id
	}
}

// Expect is the oracle's answer to q over rows, in order.
func (q Query) Expect(rows map[uuid.UUID]Entry, now time.Time) []uuid.UUID {
	var hits []Entry
	for _, r := range rows {
		if q.matches(r, now) {
			hits = append(hits, r)
		}
	}
	slices.SortFunc(hits, q.less)
	ids := make([]uuid.UUID, len(hits))
	for i, r := range hits {
		ids[i] = r.ID
	}
	return ids
}

// Collect pages through path?params with size, following nextCursor until hasNext is
// false, checking the shape of every page, and returns every item in order.
func Collect(t testing.TB, st *stacktest.Stack, token, path string, params url.Values, size int) []products.Item {
	t.Helper()
	var all []products.Item
	cursor := ""
	for pages := 0; ; pages++ {
		if pages > 1000 {
			t.Fatalf("producttest: %s?%s: more than 1000 pages", path, params.Encode())
		}
		v := url.Values{}
		for k, vs := range params {
			v[k] = vs
		}
		v.Set("size", strconv.Itoa(size))
		if cursor != "" {
			v.Set("cursor", cursor)
		}
		var pg page.Page[products.Item]
		st.Do(t, "GET", path+"?"+v.Encode(), nil, token).Data(t, &pg)
		if pg.Size != size || len(pg.Content) > size || pg.Content == nil {
			t.Fatalf("producttest: page %d: size %d with %d items (content nil: %v), asked for %d", pages, pg.Size, len(pg.Content), pg.Content == nil, size)
		}
		all = append(all, pg.Content...)
		if !pg.HasNext {
			if pg.NextCursor != "" {
				t.Errorf("producttest: last page carries a cursor")
			}
			return all
		}
		if pg.NextCursor == "" || len(pg.Content) != size {
			t.Fatalf("producttest: page %d: hasNext with cursor %q and %d items", pages, pg.NextCursor, len(pg.Content))
		}
		cursor = pg.NextCursor
	}
}

// WantItems compares the items with the oracle's ids, in order, and each item's fields with
// its row.
func WantItems(t testing.TB, items []products.Item, want []uuid.UUID, rows map[uuid.UUID]Entry, now time.Time) {
	t.Helper()
	got := make([]uuid.UUID, len(items))
	seen := map[uuid.UUID]bool{}
	for i, it := range items {
		got[i] = it.ProductID
		if seen[it.ProductID] {
			t.Errorf("producttest: %s listed twice", it.ProductID)
		}
		seen[it.ProductID] = true
		r, ok := rows[it.ProductID]
		if !ok {
			t.Errorf("producttest: %s listed but not a live product", it.ProductID)
			continue
		}
		if it.Name != r.Name || it.Price != r.Price || it.Status != r.Effective(now) || it.SellerID != r.SellerID ||
			!it.StartTime.Equal(r.Start) || !it.EndTime.Equal(r.End) || !it.CreatedAt.Equal(r.Created) {
			t.Errorf("producttest: item %+v does not match its row %+v (effective %s)", it, r, r.Effective(now))
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("producttest: got %d items, want %d; first difference at %d", len(got), len(want), firstDiff(got, want))
	}
}

func firstDiff(a, b []uuid.UUID) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}
