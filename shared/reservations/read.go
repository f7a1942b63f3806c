package reservations

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/page"
	"github.com/8949market/market/shared/postgres"
)

// Party is a participant as the API shows them.
type Party struct {
	UserID   uuid.UUID `json:"userId"`
	Nickname string    `json:"nickname"`
}

// MyApplication is the caller's own application: its status and, while waiting, its place
// (1 is next in line).
type MyApplication struct {
	Status    string    `json:"status"`
	Place     int64     `json:"place,omitempty"`
	AppliedAt time.Time `json:"appliedAt"`
}

// Detail is a reservation as a participant sees it. Buyer and payment deadline are shown
// to the buyer, the seller and administrators only.
type Detail struct {
	ReservationID   uuid.UUID      `json:"reservationId"`
	ProductID       uuid.UUID      `json:"productId"`
	Status          Status         `json:"status"`
	ProductName     string         `json:"productName"`
	Price           int64          `json:"price"`
	StartTime       time.Time      `json:"startTime"`
	EndTime         time.Time      `json:"endTime"`
	Seller          Party          `json:"seller"`
	Buyer           *Party         `json:"buyer,omitempty"`
	PaymentDeadline *time.Time     `json:"paymentDeadline,omitempty"`
	QueueLength     int64          `json:"queueLength"`
	MyApplication   *MyApplication `json:"myApplication,omitempty"`
	CreatedAt       time.Time      `json:"createdAt"`
	ModifiedAt      time.Time      `json:"modifiedAt"`
}

// Summary is a product's reservation as any signed-in user sees it from the product page:
// enough to press the button and see one's own place, nothing about other people.
type Summary struct {
	ReservationID uuid.UUID      `json:"reservationId"`
	ProductID     uuid.UUID      `json:"productId"`
	Status        Status         `json:"status"`
	StartTime     time.Time      `json:"startTime"`
	EndTime       time.Time      `json:"endTime"`
	QueueLength   int64          `json:"queueLength"`
	MyApplication *MyApplication `json:"myApplication,omitempty"`
}

// Item is a reservation in a participant's or an administrator's list.
type Item struct {
	ReservationID  uuid.UUID `json:"reservationId"`
	ProductID      uuid.UUID `json:"productId"`
	Status         Status    `json:"status"`
	ProductName    string    `json:"productName"`
	Price          int64     `json:"price"`
	SellerNickname string    `json:"sellerNickname"`
	BuyerNickname  string    `json:"buyerNickname,omitempty"`
	StartTime      time.Time `json:"startTime"`
	EndTime        time.Time `json:"endTime"`
	CreatedAt      time.Time `json:"createdAt"`
}

// Reader answers the reservation reads, always from Postgres and always after the
// access check (the original cached details ahead of the check: gap 24). A single
// reservation is read after the clock is applied to it (Lifecycle.CatchUp), so a passed
// payment deadline or a closed window shows at once.
type Reader struct {
	lc *Lifecycle
	db interface {
		QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
		Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	}
}

// NewReader returns a reader on the lifecycle's database.
func NewReader(l *Lifecycle) *Reader { return &Reader{lc: l, db: l.db} }

// queue returns the queue length and the caller's application, if any.
func (r *Reader) queue(ctx context.Context, id, caller uuid.UUID) (int64, *MyApplication, error) {
	var length int64
	var mine *MyApplication
	var status *string
	var place *int64
	var at *time.Time
	err := r.db.QueryRow(ctx, `
		SELECT (SELECT count(*) FROM reservations.applications WHERE reservation_id = $1 AND status = 'WAITING'),
		       me.status, me.created_at,
		       CASE WHEN me.status = 'WAITING' THEN (SELECT count(*) + 1 FROM reservations.applications
		              WHERE reservation_id = $1 AND status = 'WAITING' AND position < me.position) END
		  FROM (SELECT 1) AS one
		  LEFT JOIN reservations.applications me ON me.reservation_id = $1 AND me.user_id = $2`, id, caller).
		Scan(&length, &status, &at, &place)
	if err != nil {
		return 0, nil, fmt.Errorf("read queue: %w", err)
	}
	if status != nil {
		mine = &MyApplication{Status: *status, AppliedAt: at.UTC()}
		if place != nil {
			mine.Place = *place
		}
	}
	return length, mine, nil
}

// Get returns reservation id to caller: its seller, its buyer, anyone who applied, or an
// administrator; anyone else is refused with R005.
func (r *Reader) Get(ctx context.Context, id uuid.UUID, caller auth.Identity) (Detail, error) {
	if err := r.lc.CatchUp(ctx, id); err != nil {
		return Detail{}, err
	}
	s, err := read(ctx, r.db, byID(id))
	if err != nil {
		return Detail{}, err
	}
	length, mine, err := r.queue(ctx, id, caller.UserID)
	if err != nil {
		return Detail{}, err
	}
	isBuyer := s.BuyerID != nil && caller.Owns(*s.BuyerID)
	party := caller.Owns(s.SellerID) || isBuyer || caller.IsAdmin()
	if !party && mine == nil {
		return Detail{}, ErrForbidden
	}
	d := Detail{
		ReservationID: s.ID, ProductID: s.ProductID, Status: s.Status, ProductName: s.ProductName, Price: s.ProductPrice,
		StartTime: s.StartTime.UTC(), EndTime: s.EndTime.UTC(), Seller: Party{s.SellerID, s.SellerNickname},
		QueueLength: length, MyApplication: mine, CreatedAt: s.CreatedAt.UTC(), ModifiedAt: s.ModifiedAt.UTC(),
	}
	if party {
		if s.BuyerID != nil {
			d.Buyer = &Party{*s.BuyerID, s.BuyerNickname}
		}
		if s.PaymentDeadline != nil {
			t := s.PaymentDeadline.UTC()
			d.PaymentDeadline = &t
		}
	}
	return d, nil
}

// ForProduct returns the public summary of a product's reservation.
func (r *Reader) ForProduct(ctx context.Context, productID uuid.UUID, caller auth.Identity) (Summary, error) {
	s, err := read(ctx, r.db, byProduct(productID))
	if err != nil {
		return Summary{}, err
	}
	if err := r.lc.CatchUp(ctx, s.ID); err != nil {
		return Summary{}, err
	}
	if s, err = read(ctx, r.db, byID(s.ID)); err != nil {
		return Summary{}, err
	}
	length, mine, err := r.queue(ctx, s.ID, caller.UserID)
	if err != nil {
		return Summary{}, err
	}
	return Summary{ReservationID: s.ID, ProductID: s.ProductID, Status: s.Status, StartTime: s.StartTime.UTC(),
		EndTime: s.EndTime.UTC(), QueueLength: length, MyApplication: mine}, nil
}

// Filter narrows a reservation list; text filters match a part, in any case.
type Filter struct {
	Status                             Status
	ProductName, SellerName, BuyerName string
}

// ParseStatus reads a reservation status.
func ParseStatus(s string) (Status, bool) {
	st := Status(strings.ToUpper(strings.TrimSpace(s)))
	switch st {
	case Available, Pending, Paid, Completed, Cancelled, Closed:
		return st, true
	}
	return "", false
}

type listCursor struct {
	CreatedAt time.Time `json:"c"`
	ID        uuid.UUID `json:"id"`
}

// List returns the reservations caller takes part in as buyer or seller (all of them for
// an administrator), newest first, size at a time after cursor.
func (r *Reader) List(ctx context.Context, caller auth.Identity, f Filter, size int, cursor string) (page.Page[Item], error) {
	scope := "all"
	if !caller.IsAdmin() {
		scope = caller.UserID.String()
	}
	key := strings.Join([]string{"reservations", scope, string(f.Status), f.ProductName, f.SellerName, f.BuyerName}, "\x1f")
	var after listCursor
	hasCursor, err := page.Decode(cursor, key, &after)
	if err != nil {
		return page.Page[Item]{}, err
	}
	var where []string
	var params postgres.Params
	arg := params.Add
	where = append(where, "true")
	if !caller.IsAdmin() {
		me := arg(caller.UserID)
		where = append(where, fmt.Sprintf("(seller_id = %s OR buyer_id = %s)", me, me))
	}
	if f.Status != "" {
		where = append(where, "status = "+arg(string(f.Status)))
	}
	for _, tf := range []struct{ col, v string }{{"product_name", f.ProductName}, {"seller_nickname", f.SellerName}, {"buyer_nickname", f.BuyerName}} {
		if tf.v != "" {
			where = append(where, tf.col+" ILIKE "+arg(postgres.ContainsPattern(tf.v)))
		}
	}
	if hasCursor {
		where = append(where, fmt.Sprintf("(created_at, id) < (%s, %s)", arg(after.CreatedAt), arg(after.ID)))
	}
	rows, err := r.db.Query(ctx, `
		SELECT id, product_id, status, product_name, product_price, seller_nickname, coalesce(buyer_nickname, ''),
		       start_time, end_time, created_at
		  FROM reservations.reservations
		 WHERE `+strings.Join(where, " AND ")+`
		 ORDER BY created_at DESC, id DESC LIMIT `+arg(size+1), params.Values()...)
	if err != nil {
		return page.Page[Item]{}, fmt.Errorf("list reservations: %w", err)
	}
	items, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Item, error) {
		var it Item
		err := row.Scan(&it.ReservationID, &it.ProductID, &it.Status, &it.ProductName, &it.Price, &it.SellerNickname,
			&it.BuyerNickname, &it.StartTime, &it.EndTime, &it.CreatedAt)
		it.StartTime, it.EndTime, it.CreatedAt = it.StartTime.UTC(), it.EndTime.UTC(), it.CreatedAt.UTC()
		return it, err
	})
	if err != nil {
		return page.Page[Item]{}, fmt.Errorf("list reservations: %w", err)
	}
	return page.Of(items, size, func(last Item) string {
		return page.Encode(key, listCursor{CreatedAt: last.CreatedAt, ID: last.ReservationID})
	}), nil
}
