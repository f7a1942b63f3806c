package users

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/fault"
	"github.com/8949market/market/shared/page"
	"github.com/8949market/market/shared/postgres"
)

// Filter narrows the admin list. Text filters match a part of the field in any case;
// Keyword matches username, name or nickname.
type Filter struct {
	Keyword, Username, Name, Nickname string
	Role                              auth.Role // empty: any
}

// Sort is the admin list's order: a field and a direction.
type Sort struct {
	Field string // createdAt, username, name, nickname or userRole
	Desc  bool
}

// sortColumns maps the API's sort fields to columns.
var sortColumns = map[string]string{
	"createdAt": "created_at",
	"username":  "username",
	"name":      "name",
	"nickname":  "nickname",
	"userRole":  "role",
}

// ErrSort is an unknown sort field or direction.
var ErrSort = fault.ErrBadParameter.WithMessage("sort must be createdAt, username, name, nickname or userRole, optionally followed by ,asc or ,desc").OnField("sort")

// ParseSort reads "field[,asc|desc]"; empty means newest first.
func ParseSort(s string) (Sort, error) {
	if s == "" {
		return Sort{Field: "createdAt", Desc: true}, nil
	}
	field, dir, _ := strings.Cut(s, ",")
	if _, ok := sortColumns[field]; !ok {
		return Sort{}, ErrSort
	}
	switch strings.ToLower(dir) {
	case "", "asc":
		return Sort{Field: field}, nil
	case "desc":
		return Sort{Field: field, Desc: true}, nil
	}
	return Sort{}, ErrSort
}

func (s Sort) String() string {
	if s.Desc {
		return s.Field + ",desc"
	}
	return s.Field + ",asc"
}

// Summary is a user as the admin list shows it.
type Summary struct {
	UserID     uuid.UUID `json:"userId"`
	Username   string    `json:"username"`
	Name       string    `json:"name"`
	Nickname   string    `json:"nickname"`
	UserRole   auth.Role `json:"userRole"`
	CreatedAt  time.Time `json:"createdAt"`
	ModifiedAt time.Time `json:"modifiedAt"`
}

// cursorKey is the last row of a page in the list's order: the sort value and the id,
// which breaks ties.
type cursorKey struct {
	Text string     `json:"t,omitempty"`
	Time *time.Time `json:"c,omitempty"`
	ID   uuid.UUID  `json:"id"`
}

// Search lists live users matching f in order s, size at a time, after cursor.
func (st *Store) Search(ctx context.Context, f Filter, s Sort, size int, cursor string) (page.Page[Summary], error) {
	q := "users:" + s.String() + ":" + f.fingerprint()
	var after cursorKey
	hasCursor, err := page.Decode(cursor, q, &after)
	if err != nil {
		return page.Page[Summary]{}, err
	}
	col := sortColumns[s.Field]
	var where []string
	var params postgres.Params
	arg := params.Add
	where = append(where, "deleted_at IS NULL")
	if f.Keyword != "" {
		p := arg(postgres.ContainsPattern(f.Keyword))
		where = append(where, fmt.Sprintf("(username ILIKE %[1]s OR name ILIKE %[1]s OR nickname ILIKE %[1]s)", p))
	}
	for _, tf := range []struct{ col, v string }{{"username", f.Username}, {"name", f.Name}, {"nickname", f.Nickname}} {
		if tf.v != "" {
			where = append(where, tf.col+" ILIKE "+arg(postgres.ContainsPattern(tf.v)))
		}
	}
	if f.Role != "" {
		where = append(where, "role = "+arg(string(f.Role)))
	}
	cmp, dir := ">", "ASC"
	if s.Desc {
		cmp, dir = "<", "DESC"
	}
	if hasCursor {
		var v any = after.Text
		if col == "created_at" {
			if after.Time == nil {
				return page.Page[Summary]{}, page.ErrCursor
			}
			v = *after.Time
		}
		where = append(where, fmt.Sprintf("(%s, id) %s (%s, %s)", col, cmp, arg(v), arg(after.ID)))
	}
	sql := fmt.Sprintf(`
		SELECT id, username, name, nickname, role, created_at, modified_at
		  FROM users.users
		 WHERE %s
		 ORDER BY %s %s, id %s
		 LIMIT %s`, strings.Join(where, " AND "), col, dir, dir, arg(size+1))
	rows, err := st.db.Query(ctx, sql, params.Values()...)
	if err != nil {
		return page.Page[Summary]{}, fmt.Errorf("search users: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Summary, error) {
		var v Summary
		err := row.Scan(&v.UserID, &v.Username, &v.Name, &v.Nickname, &v.UserRole, &v.CreatedAt, &v.ModifiedAt)
		v.CreatedAt, v.ModifiedAt = v.CreatedAt.UTC(), v.ModifiedAt.UTC()
		return v, err
	})
	if err != nil {
		return page.Page[Summary]{}, fmt.Errorf("search users: %w", err)
	}
	return page.Of(list, size, func(last Summary) string {
		k := cursorKey{ID: last.UserID}
		switch s.Field {
		case "createdAt":
			k.Time = &last.CreatedAt
		case "username":
			k.Text = last.Username
		case "name":
			k.Text = last.Name
		case "nickname":
			k.Text = last.Nickname
		case "userRole":
			k.Text = string(last.UserRole)
		}
		return page.Encode(q, k)
	}), nil
}

// fingerprint ties a cursor to its filter, so it cannot page through another query.
func (f Filter) fingerprint() string {
	sum := sha256.Sum256([]byte(strings.Join([]string{f.Keyword, f.Username, f.Name, f.Nickname, string(f.Role)}, "\x1f")))
	return hex.EncodeToString(sum[:8])
}
