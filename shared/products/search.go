package products

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/8949market/market/shared/fault"
	"github.com/8949market/market/shared/page"
	"github.com/8949market/market/shared/postgres"
)

// Query is a product search. Zero values mean "any".
type Query struct {
	Status         Status     // effective status
	SellerID       *uuid.UUID // one seller's products
	Text           string     // a part of the name or description, any case
	MinPrice       int64
	MaxPrice       int64
	OpenNow        bool          // the window is open at the time of the search
	StartingWithin time.Duration // the window opens between now and now + this
	Sort           Sort
}

// Sort is a search order.
type Sort string

// The search orders; each ends with the id, so the order is total and pages are stable.
const (
	SortStart  Sort = "startTime"  // soonest start first
	SortPrice  Sort = "price"      // cheapest first
	SortPriceD Sort = "price,desc" // dearest first
	SortNewest Sort = "newest"     // newest listing first
)

// MaxStartingWithin is the longest startingWithin a search takes.
const MaxStartingWithin = 366 * 24 * time.Hour

// ErrSort is an unknown sort.
var ErrSort = fault.ErrBadParameter.WithMessage("sort must be startTime, price, price,desc or newest").OnField("sort")

// ParseSort reads a sort; empty is newest first.
func ParseSort(s string) (Sort, error) {
	switch Sort(s) {
	case "":
		return SortNewest, nil
	case SortStart, SortPrice, SortPriceD, SortNewest:
		return Sort(s), nil
	case "price,asc", "startTime,asc":
		return Sort(strings.TrimSuffix(s, ",asc")), nil
	}
	return "", ErrSort
}

// Item is a product as a search lists it.
type Item struct {
	ProductID uuid.UUID `json:"productId"`
	Name      string    `json:"name"`
	Price     int64     `json:"price"`
	Status    Status    `json:"status"`
	SellerID  uuid.UUID `json:"sellerId"`
	StartTime time.Time `json:"startTime"`
	EndTime   time.Time `json:"endTime"`
	CreatedAt time.Time `json:"createdAt"`
	// ThumbnailURL is the first photo's thumbnail; null while the product has none.
	ThumbnailURL *string `json:"thumbnailUrl"`
}

type searchCursor struct {
	Time  *time.Time `json:"t,omitempty"`
	Price int64      `json:"p,omitempty"`
	ID    uuid.UUID  `json:"id"`
}

// Search lists live products matching q at now, size at a time, after cursor. The
// effective status is computed in the query exactly as EffectiveStatus does.
func (s *Store) Search(ctx context.Context, q Query, now time.Time, size int, cursor string) (page.Page[Item], error) {
	key := "products:" + q.fingerprint()
	var after searchCursor
	hasCursor, err := page.Decode(cursor, key, &after)
	if err != nil {
		return page.Page[Item]{}, err
	}
	var params postgres.Params
	arg := params.Add
	// now is bound once, and only when a filter uses it (an unused parameter has no type).
	nowRef := ""
	nowArg := func() string {
		if nowRef == "" {
			nowRef = arg(now)
		}
		return nowRef
	}
	where := []string{"deleted_at IS NULL"}
	open := "status IN ('PENDING_RESERVATION', 'RESERVING')"
	switch q.Status {
	case "":
	case PendingReservation:
		where = append(where, open, "start_time > "+nowArg())
	case Reserving:
		where = append(where, open, "start_time <= "+nowArg(), fmt.Sprintf("(end_time > %s OR buyer_id IS NOT NULL)", nowArg()))
	case Expired:
		where = append(where, fmt.Sprintf("(status = 'EXPIRED' OR (%s AND end_time <= %s AND buyer_id IS NULL))", open, nowArg()))
	default:
		where = append(where, "status = "+arg(string(q.Status)))
	}
	if q.SellerID != nil {
		where = append(where, "seller_id = "+arg(*q.SellerID))
	}
	if q.Text != "" {
		where = append(where, "search_text LIKE lower("+arg(postgres.ContainsPattern(q.Text))+")")
	}
	if q.MinPrice > 0 {
		where = append(where, "price >= "+arg(q.MinPrice))
	}
	if q.MaxPrice > 0 {
		where = append(where, "price <= "+arg(q.MaxPrice))
	}
	if q.OpenNow {
		where = append(where, open, "start_time <= "+nowArg(), "end_time > "+nowArg())
	}
	if q.StartingWithin > 0 {
		where = append(where, "start_time > "+nowArg(), "start_time <= "+arg(now.Add(q.StartingWithin)))
	}
	var order string
	switch q.Sort {
	case SortStart:
		order = "start_time, id"
		if hasCursor {
			if after.Time == nil {
				return page.Page[Item]{}, page.ErrCursor
			}
			where = append(where, fmt.Sprintf("(start_time, id) > (%s, %s)", arg(*after.Time), arg(after.ID)))
		}
	case SortPrice:
		order = "price, id"
		if hasCursor {
			where = append(where, fmt.Sprintf("(price, id) > (%s, %s)", arg(after.Price), arg(after.ID)))
		}
	case SortPriceD:
		order = "price DESC, id DESC"
		if hasCursor {
			where = append(where, fmt.Sprintf("(price, id) < (%s, %s)", arg(after.Price), arg(after.ID)))
		}
	default:
		order = "created_at DESC, id DESC"
		if hasCursor {
			if after.Time == nil {
				return page.Page[Item]{}, page.ErrCursor
			}
			where = append(where, fmt.Sprintf("(created_at, id) < (%s, %s)", arg(*after.Time), arg(after.ID)))
		}
	}
	// The page first, then each item's first photo: one index probe per item of the page.
	sql := `SELECT p.*, (SELECT thumb_url FROM products.photos ph
	                      WHERE ph.product_id = p.id AND ph.status = 'READY' ORDER BY ph.position LIMIT 1)
	          FROM (SELECT id, name, price, status, seller_id, start_time, end_time, created_at, buyer_id
	                  FROM products.products
	                 WHERE ` + strings.Join(where, " AND ") + `
	                 ORDER BY ` + order + `
	                 LIMIT ` + arg(size+1) + `) p
	         ORDER BY ` + order
	// Planned for these values every time (no cached generic plan): how selective a text
	// or price filter is decides between the trigram index and an index in sort order.
	rows, err := s.db.Query(ctx, sql, append([]any{pgx.QueryExecModeExec}, params.Values()...)...)
	if err != nil {
		return page.Page[Item]{}, fmt.Errorf("search products: %w", err)
	}
	items, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Item, error) {
		var (
			p     Product
			thumb *string
		)
		err := row.Scan(&p.ID, &p.Name, &p.Price, &p.Status, &p.SellerID, &p.StartTime, &p.EndTime, &p.CreatedAt, &p.BuyerID, &thumb)
		return Item{
			ProductID: p.ID, Name: p.Name, Price: p.Price, Status: p.EffectiveStatus(now), SellerID: p.SellerID,
			StartTime: p.StartTime.UTC(), EndTime: p.EndTime.UTC(), CreatedAt: p.CreatedAt.UTC(), ThumbnailURL: thumb,
		}, err
	})
	if err != nil {
		return page.Page[Item]{}, fmt.Errorf("search products: %w", err)
	}
	return page.Of(items, size, func(last Item) string {
		c := searchCursor{ID: last.ProductID, Price: last.Price}
		switch q.Sort {
		case SortStart:
			c.Time = &last.StartTime
		case SortPrice, SortPriceD:
		default:
			c.Time = &last.CreatedAt
		}
		return page.Encode(key, c)
	}), nil
}

// fingerprint ties a cursor to its query. Relative filters ("open now", "starting
// within") are part of the query, not their instant, so a client can page through them.
func (q Query) fingerprint() string {
	seller := ""
	if q.SellerID != nil {
		seller = q.SellerID.String()
	}
	raw := strings.Join([]string{string(q.Status), seller, q.Text,
		strconv.FormatInt(q.MinPrice, 10), strconv.FormatInt(q.MaxPrice, 10),
		strconv.FormatBool(q.OpenNow), q.StartingWithin.String(), string(q.Sort)}, "\x1f")
	sum := sha256.Sum256([]byte(raw))
	return hex.EncodeToString(sum[:8])
}

// ParseQuery reads a search from query parameters: status, sellerId, q (text), minPrice,
// maxPrice, openNow (true/false), startingWithin (a duration such as 30m or 2h), sort.
func ParseQuery(v url.Values) (Query, error) {
	var q Query
	bad := func(field, msg string) error { return fault.ErrBadParameter.WithMessage("%s", msg).OnField(field) }
	if s := v.Get("status"); s != "" {
		st, ok := ParseStatus(s)
		if !ok {
			return Query{}, bad("status", "status must be one of PENDING_RESERVATION, RESERVING, IN_TRADE, COMPLETED, SALE_CANCELED, EXPIRED, FAILED")
		}
		q.Status = st
	}
	if s := v.Get("sellerId"); s != "" {
		id, err := uuid.Parse(s)
		if err != nil {
			return Query{}, bad("sellerId", "sellerId must be a UUID")
		}
		q.SellerID = &id
	}
	q.Text = strings.TrimSpace(v.Get("q"))
	if utf8.RuneCountInString(q.Text) > MaxNameLength {
		return Query{}, bad("q", "q must be at most 100 characters")
	}
	for _, f := range []struct {
		name string
		dst  *int64
	}{{"minPrice", &q.MinPrice}, {"maxPrice", &q.MaxPrice}} {
		if s := v.Get(f.name); s != "" {
			n, err := strconv.ParseInt(s, 10, 64)
			if err != nil || n < 0 || n > MaxPrice {
				return Query{}, bad(f.name, f.name+" must be a whole number from 0 to 1,000,000,000")
			}
			*f.dst = n
		}
	}
	if q.MaxPrice > 0 && q.MinPrice > q.MaxPrice {
		return Query{}, bad("maxPrice", "maxPrice must not be below minPrice")
	}
	if s := v.Get("openNow"); s != "" {
		b, err := strconv.ParseBool(s)
		if err != nil {
			return Query{}, bad("openNow", "openNow must be true or false")
		}
		q.OpenNow = b
	}
	if s := v.Get("startingWithin"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || d <= 0 || d > MaxStartingWithin {
			return Query{}, bad("startingWithin", "startingWithin must be a positive duration such as 30m or 24h")
		}
		q.StartingWithin = d
	}
	sort, err := ParseSort(v.Get("sort"))
	if err != nil {
		return Query{}, err
	}
	q.Sort = sort
	return q, nil
}
