package list_test

import (
	"cmp"
	"context"
	"encoding/base64"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/devstack/stacktest"
	"github.com/8949market/market/shared/users/usertest"
)

type summary struct {
	UserID     uuid.UUID `json:"userId"`
	Username   string    `json:"username"`
	Name       string    `json:"name"`
	Nickname   string    `json:"nickname"`
	UserRole   string    `json:"userRole"`
	CreatedAt  time.Time `json:"createdAt"`
	ModifiedAt time.Time `json:"modifiedAt"`
}

type listPage struct {
	Content    []summary `json:"content"`
	Size       int       `json:"size"`
	NextCursor string    `json:"nextCursor"`
	HasNext    bool      `json:"hasNext"`
}

func list(t *testing.T, st *stacktest.Stack, token string, q url.Values) listPage {
	t.Helper()
	res := st.Do(t, "GET", "/api/v1/users?"+q.Encode(), nil, token)
	if res.Status != http.StatusOK {
		t.Fatalf("list %s: status %d: %s", q.Encode(), res.Status, res.Body)
	}
	var p listPage
	res.Data(t, &p)
	return p
}

// member is one account of the paging test, as the list should show it.
type member struct {
	id                             uuid.UUID
	username, name, nickname, role string
	createdAt                      time.Time
}

func (m member) text(field string) string {
	switch field {
	case "username":
		return m.username
	case "name":
		return m.name
	case "nickname":
		return m.nickname
	case "userRole":
		return m.role
	}
	panic(field)
}

// ordered is members in the order the list promises: by the field, then by id, both in
// the one direction.
func ordered(ms []member, field string, desc bool) []uuid.UUID {
	ms = slices.Clone(ms)
	slices.SortFunc(ms, func(a, b member) int {
		c := 0
		if field == "createdAt" {
			c = a.createdAt.Compare(b.createdAt)
		} else {
			c = cmp.Compare(a.text(field), b.text(field))
		}
		if c == 0 {
			c = cmp.Compare(a.id.String(), b.id.String())
		}
		if desc {
			c = -c
		}
		return c
	})
	out := make([]uuid.UUID, len(ms))
	for i, m := range ms {
		out[i] = m.id
	}
	return out
}

func ids(p listPage) []uuid.UUID {
	out := make([]uuid.UUID, len(p.Content))
	for i, s := range p.Content {
		out[i] = s.UserID
	}
	return out
}

// TestListSortAndPages is the route end to end: sorts, pages by cursor and the query
// refusals. The filters and who may list are users.List's (shared/users accounts_test.go).
func TestListSortAndPages(t *testing.T) {
	t.Parallel()
	st := stacktest.Start(t)
	admin := usertest.BootstrapAdmin(t, st)
	userToken, _ := st.Token(t, auth.RoleUser)

	// A tag no other account contains, so the filter selects exactly these seven; names
	// and nicknames repeat, to page through ties.
	tag := make([]byte, 10)
	for i := range tag {
		tag[i] = byte('a' + rand.IntN(26))
	}
	specs := []struct {
		name, nickname string
		role           auth.Role
	}{
		{"b", "1", auth.RoleUser}, {"a", "3", auth.RoleUser}, {"b", "1", auth.RoleManager}, {"c", "2", auth.RoleUser},
		{"b", "5", auth.RoleUser}, {"d", "4", auth.RoleManager}, {"c", "2", auth.RoleUser},
	}
	members := make([]member, len(specs))
	t.Run("setup", func(t *testing.T) {
		for i, s := range specs {
			t.Run(strconv.Itoa(i), func(t *testing.T) {
				t.Parallel()
				a := usertest.NewAccount(t, st, s.role, map[string]any{"name": string(tag) + s.name, "nickname": string(tag) + s.nickname})
				members[i] = member{id: a.ID, username: a.Username, name: string(tag) + s.name, nickname: string(tag) + s.nickname, role: string(s.role)}
			})
		}
	})
	for i := range members {
		if err := st.Kit.DB.QueryRow(context.Background(),
			`SELECT created_at FROM users.users WHERE id = $1`, members[i].id).Scan(&members[i].createdAt); err != nil {
			t.Fatal(err)
		}
	}
	filter := func() url.Values { return url.Values{"name": {string(tag)}} }

	t.Run("sort", func(t *testing.T) {
		for _, field := range []string{"createdAt", "username", "name", "nickname", "userRole"} {
			for _, dir := range []string{"", ",asc", ",desc"} {
				t.Run(field+dir, func(t *testing.T) {
					t.Parallel()
					q := filter()
					q.Set("sort", field+dir)
					got := ids(list(t, st, admin.Token, q))
					if want := ordered(members, field, dir == ",desc"); !slices.Equal(got, want) {
						t.Errorf("order %v, want %v", got, want)
					}
				})
			}
		}
		t.Run("default is newest first", func(t *testing.T) {
			t.Parallel()
			got := ids(list(t, st, admin.Token, filter()))
			if want := ordered(members, "createdAt", true); !slices.Equal(got, want) {
				t.Errorf("order %v, want %v", got, want)
			}
		})
	})

	t.Run("pages", func(t *testing.T) {
		for _, sort := range []string{"", "name,asc", "name,desc", "nickname,asc", "userRole,desc", "username,asc", "createdAt,asc"} {
			for _, size := range []int{1, 2, 3, 7} {
				t.Run(sort+"/"+strconv.Itoa(size), func(t *testing.T) {
					t.Parallel()
					field, dir, _ := strings.Cut(sort, ",")
					if field == "" {
						field, dir = "createdAt", "desc"
					}
					want := ordered(members, field, dir == "desc")
					var got []uuid.UUID
					cursor := ""
					for pages := 0; ; pages++ {
						if pages > len(members) {
							t.Fatalf("more than %d pages", len(members))
						}
						q := filter()
						q.Set("size", strconv.Itoa(size))
						if sort != "" {
							q.Set("sort", sort)
						}
						if cursor != "" {
							q.Set("cursor", cursor)
						}
						p := list(t, st, admin.Token, q)
						got = append(got, ids(p)...)
						if p.Size != size || p.HasNext != (p.NextCursor != "") {
							t.Fatalf("page size %d hasNext %v cursor %q", p.Size, p.HasNext, p.NextCursor)
						}
						if !p.HasNext {
							break
						}
						if len(p.Content) != size {
							t.Fatalf("a page with a next page holds %d of %d", len(p.Content), size)
						}
						cursor = p.NextCursor
					}
					if !slices.Equal(got, want) {
						t.Errorf("walked %v, want %v", got, want)
					}
				})
			}
		}
	})

	first := func(t *testing.T) string {
		q := filter()
		q.Set("sort", "name,asc")
		q.Set("size", "2")
		p := list(t, st, admin.Token, q)
		if !p.HasNext {
			t.Fatal("no next page")
		}
		return p.NextCursor
	}
	cursor := first(t)
	t.Run("the cursor continues its own query", func(t *testing.T) {
		q := filter()
		q.Set("sort", "name,asc")
		q.Set("size", "2")
		q.Set("cursor", cursor)
		if got, want := ids(list(t, st, admin.Token, q)), ordered(members, "name", false)[2:4]; !slices.Equal(got, want) {
			t.Errorf("second page %v, want %v", got, want)
		}
	})

	foreign := base64.RawURLEncoding.EncodeToString([]byte(`{"q":"users:name,asc:0000000000000000","k":{"t":"a","id":"` + uuid.NewString() + `"}}`))
	tests := []struct {
		name   string
		query  string
		token  string
		status int
		code   string
		field  string
	}{
		{"size 0", "size=0", admin.Token, 400, "C015", "size"},
		{"size 101", "size=101", admin.Token, 400, "C015", "size"},
		{"size abc", "size=abc", admin.Token, 400, "C015", "size"},
		{"size -1", "size=-1", admin.Token, 400, "C015", "size"},
		{"size 1.5", "size=1.5", admin.Token, 400, "C015", "size"},
		{"sort by password", "sort=password", admin.Token, 400, "C015", "sort"},
		{"sort by a column name", "sort=created_at", admin.Token, 400, "C015", "sort"},
		{"sort sideways", "sort=name,sideways", admin.Token, 400, "C015", "sort"},
		{"sort with extra part", "sort=name,asc,desc", admin.Token, 400, "C015", "sort"},
		{"sort without field", "sort=,asc", admin.Token, 400, "C015", "sort"},
		{"cursor with another direction", "sort=name,desc&size=2&name=" + string(tag) + "&cursor=" + cursor, admin.Token, 400, "C015", "cursor"},
		{"cursor with another field", "sort=username,asc&size=2&name=" + string(tag) + "&cursor=" + cursor, admin.Token, 400, "C015", "cursor"},
		{"cursor with the default sort", "size=2&name=" + string(tag) + "&cursor=" + cursor, admin.Token, 400, "C015", "cursor"},
		{"cursor with another filter value", "sort=name,asc&size=2&name=" + string(tag) + "b&cursor=" + cursor, admin.Token, 400, "C015", "cursor"},
		{"cursor with the filter moved to keyword", "sort=name,asc&size=2&keyword=" + string(tag) + "&cursor=" + cursor, admin.Token, 400, "C015", "cursor"},
		{"cursor with a filter added", "sort=name,asc&size=2&userRole=USER&name=" + string(tag) + "&cursor=" + cursor, admin.Token, 400, "C015", "cursor"},
		{"cursor without its filter", "sort=name,asc&size=2&cursor=" + cursor, admin.Token, 400, "C015", "cursor"},
		{"garbage cursor", "cursor=!!!", admin.Token, 400, "C015", "cursor"},
		{"base64 that is not a cursor", "cursor=YWJj", admin.Token, 400, "C015", "cursor"},
		{"cursor of another query", "sort=name,asc&cursor=" + foreign, admin.Token, 400, "C015", "cursor"},
		{"a user", "", userToken, 403, "U015", ""},
		{"a user with filters", "userRole=MASTER", userToken, 403, "U015", ""},
		{"no token", "", "", 401, "C002", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			st.Do(t, "GET", "/api/v1/users?"+tt.query, nil, tt.token).RefusedOn(t, tt.status, tt.code, tt.field)
		})
	}
}
