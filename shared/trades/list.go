package trades

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/fault"
	"github.com/8949market/market/shared/page"
	"github.com/8949market/market/shared/postgres"
)

// Filter narrows a trade list: a status, and the caller's side (BUYER or SELLER).
type Filter struct {
	Status Status
	Side   Side
}

// ParseFilter reads status and role from a query.
func ParseFilter(status, role string) (Filter, error) {
	var f Filter
	switch st := Status(strings.ToUpper(status)); st {
	case "":
	case Trading, Completed, Cancelled:
		f.Status = st
	default:
		return Filter{}, fault.ErrBadParameter.WithMessage("status must be TRADING, COMPLETED or CANCELLED").OnField("status")
	}
	switch sd := Side(strings.ToUpper(role)); sd {
	case "":
	case Buyer, Seller:
		f.Side = sd
	default:
		return Filter{}, fault.ErrBadParameter.WithMessage("role must be BUYER or SELLER").OnField("role")
	}
	return f, nil
}

// List answers a list query (status, role, size, cursor) of caller's.
func List(ctx context.Context, s *Store, caller auth.Identity, q url.Values) (page.Page[Trade], error) {
	f, err := ParseFilter(q.Get("status"), q.Get("role"))
	if err != nil {
		return page.Page[Trade]{}, err
	}
	size, err := page.Size(q, 20, 100)
	if err != nil {
		return page.Page[Trade]{}, err
	}
	return s.List(ctx, caller, f, size, q.Get("cursor"))
}

type cursorKey struct {
	CreatedAt time.Time `json:"c"`
	ID        uuid.UUID `json:"id"`
}

// List returns the trades caller is a party to (an administrator: all, or their own with
// a role filter), newest first, size at a time after cursor.
func (s *Store) List(ctx context.Context, caller auth.Identity, f Filter, size int, cursor string) (page.Page[Trade], error) {
	scope := "all"
	if !caller.IsAdmin() || f.Side != "" {
		scope = caller.UserID.String()
	}
	key := strings.Join([]string{"trades", scope, string(f.Status), string(f.Side)}, ":")
	var after cursorKey
	hasCursor, err := page.Decode(cursor, key, &after)
	if err != nil {
		return page.Page[Trade]{}, err
	}
	var where []string
	var params postgres.Params
	arg := params.Add
	where = append(where, "true")
	switch {
	case f.Side == Buyer:
		where = append(where, "buyer_id = "+arg(caller.UserID))
	case f.Side == Seller:
		where = append(where, "seller_id = "+arg(caller.UserID))
	case !caller.IsAdmin():
		me := arg(caller.UserID)
		where = append(where, fmt.Sprintf("(buyer_id = %s OR seller_id = %s)", me, me))
	}
	if f.Status != "" {
		where = append(where, "status = "+arg(string(f.Status)))
	}
	if hasCursor {
		where = append(where, fmt.Sprintf("(created_at, id) < (%s, %s)", arg(after.CreatedAt), arg(after.ID)))
	}
	rows, err := s.db.Query(ctx, `SELECT `+tradeColumns+` FROM trades.trades WHERE `+strings.Join(where, " AND ")+
		` ORDER BY created_at DESC, id DESC LIMIT `+arg(size+1), params.Values()...)
	if err != nil {
		return page.Page[Trade]{}, fmt.Errorf("list trades: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Trade, error) { return scan(row) })
	if err != nil {
		return page.Page[Trade]{}, fmt.Errorf("list trades: %w", err)
	}
	return page.Of(list, size, func(last Trade) string {
		return page.Encode(key, cursorKey{CreatedAt: last.CreatedAt, ID: last.ID})
	}), nil
}
