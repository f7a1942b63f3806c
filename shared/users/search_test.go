package users_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/fault"
	"github.com/8949market/market/shared/page"
	"github.com/8949market/market/shared/users"
)

func TestParseSort(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want users.Sort
		ok   bool
	}{
		{"", users.Sort{Field: "createdAt", Desc: true}, true},
		{"createdAt", users.Sort{Field: "createdAt"}, true},
		{"username,asc", users.Sort{Field: "username"}, true},
		{"name,desc", users.Sort{Field: "name", Desc: true}, true},
		{"nickname,DESC", users.Sort{Field: "nickname", Desc: true}, true},
		{"userRole,Asc", users.Sort{Field: "userRole"}, true},
		{"role", users.Sort{}, false},
		{"created_at", users.Sort{}, false},
		{"Username", users.Sort{}, false},
		{"name,sideways", users.Sort{}, false},
		{"name,asc,desc", users.Sort{}, false},
		{",desc", users.Sort{}, false},
	}
	for _, tt := range tests {
		got, err := users.ParseSort(tt.in)
		if !tt.ok {
			wantFault(t, err, "C015", "sort")
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseSort(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
	}
}

// listed is a seeded account as the list should show it.
type listed struct {
	id                       uuid.UUID
	username, name, nickname string
	role                     auth.Role
	createdAt                time.Time
}

func (l listed) value(field string) string {
	switch field {
	case "username":
		return l.username
	case "name":
		return l.name
	case "nickname":
		return l.nickname
	case "userRole":
		return string(l.role)
	}
	panic("no text field " + field)
}

// seedList stores accounts with many ties on every sort field, plus a deleted one that
// must never be listed.
func seedList(t *testing.T, st *users.Store) []listed {
	t.Helper()
	base := time.Date(2030, 1, 2, 3, 4, 5, 123456000, time.UTC)
	seeds := []struct {
		username, name, nickname string
		role                     auth.Role
		at                       int // seconds after base: equal values tie
	}{
		{"mike0001", "kim", "alpha", auth.RoleUser, 0},
		{"anna0002", "kim", "alpha", auth.RoleManager, 0},
		{"zed00003", "lee", "bravo", auth.RoleUser, 0},
		{"bob00004", "kim", "bravo", auth.RoleMaster, 1},
		{"carl0005", "park", "alpha", auth.RoleUser, 1},
		{"dave0006", "lee", "charlie", auth.RoleUser, 1},
		{"eve00007", "choi", "charlie", auth.RoleManager, 2},
		{"fay00008", "kim", "delta", auth.RoleUser, 3},
		{"gus00009", "lee", "alpha", auth.RoleUser, 3},
		{"hal00010", "park", "echo", auth.RoleMaster, 3},
		{"ivy00011", "jung", "delta", auth.RoleUser, 4},
	}
	var out []listed
	for _, s := range seeds {
		u := account(s.username, s.role)
		u.Name, u.Nickname = s.name, s.nickname
		u.CreatedAt = base.Add(time.Duration(s.at) * time.Second)
		u.ModifiedAt = u.CreatedAt
		mustCreate(t, st, u)
		out = append(out, listed{u.ID, s.username, s.name, s.nickname, s.role, u.CreatedAt})
	}
	gone := account("dead0012", auth.RoleUser)
	gone.Name, gone.Nickname, gone.CreatedAt = "kim", "alpha", base.Add(2*time.Second)
	mustCreate(t, st, gone)
	if _, err := st.Update(context.Background(), gone.ID, func(u *users.User) error {
		return u.Delete(auth.Identity{UserID: gone.ID, Role: auth.RoleUser}, time.Now())
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

// expectedOrder is the list's order: the sort value, then the id to break ties, both in
// the sort's direction.
func expectedOrder(all []listed, s users.Sort) []uuid.UUID {
	sorted := slices.Clone(all)
	slices.SortFunc(sorted, func(a, b listed) int {
		var c int
		if s.Field == "createdAt" {
			c = a.createdAt.Compare(b.createdAt)
		} else {
			c = strings.Compare(a.value(s.Field), b.value(s.Field))
		}
		if c == 0 {
			c = bytes.Compare(a.id[:], b.id[:])
		}
		if s.Desc {
			c = -c
		}
		return c
	})
	ids := make([]uuid.UUID, len(sorted))
	for i, l := range sorted {
		ids[i] = l.id
	}
	return ids
}

func TestSearchPagesThroughEverySort(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, _ := newStore(t)
	all := seedList(t, st)
	byID := map[uuid.UUID]listed{}
	for _, l := range all {
		byID[l.id] = l
	}
	for _, field := range []string{"createdAt", "username", "name", "nickname", "userRole"} {
		for _, desc := range []bool{false, true} {
			for size := 1; size <= 3; size++ {
				s := users.Sort{Field: field, Desc: desc}
				t.Run(fmt.Sprintf("%s/size %d", s, size), func(t *testing.T) {
					t.Parallel()
					var got []uuid.UUID
					cursor := ""
					for pages := 0; ; pages++ {
						if pages > len(all) {
							t.Fatalf("more pages than rows: %d", pages)
						}
						p, err := st.Search(ctx, users.Filter{}, s, size, cursor)
						if err != nil {
							t.Fatalf("page %d: %v", pages, err)
						}
						if p.Size != size || len(p.Content) == 0 || len(p.Content) > size || p.HasNext != (p.NextCursor != "") {
							t.Fatalf("page %d: size %d, %d rows, hasNext %v, cursor %q", pages, p.Size, len(p.Content), p.HasNext, p.NextCursor)
						}
						if p.HasNext && len(p.Content) != size {
							t.Fatalf("page %d: a page before the last has %d rows", pages, len(p.Content))
						}
						for _, v := range p.Content {
							l, ok := byID[v.UserID]
							if !ok || v.Username != l.username || v.Name != l.name || v.Nickname != l.nickname ||
								v.UserRole != l.role || !v.CreatedAt.Equal(l.createdAt) || v.CreatedAt.Location() != time.UTC {
								t.Fatalf("listed %+v, seeded %+v", v, l)
							}
							got = append(got, v.UserID)
						}
						if !p.HasNext {
							break
						}
						cursor = p.NextCursor
					}
					if want := expectedOrder(all, s); !slices.Equal(got, want) {
						t.Errorf("visited\n %v\nwant\n %v", got, want)
					}
				})
			}
		}
	}
	t.Run("default order is newest first", func(t *testing.T) {
		t.Parallel()
		s, err := users.ParseSort("")
		if err != nil {
			t.Fatal(err)
		}
		p, err := st.Search(ctx, users.Filter{}, s, 100, "")
		if err != nil {
			t.Fatal(err)
		}
		got := make([]uuid.UUID, len(p.Content))
		for i, v := range p.Content {
			got[i] = v.UserID
		}
		if want := expectedOrder(all, s); !slices.Equal(got, want) || p.HasNext || p.NextCursor != "" {
			t.Errorf("got %v hasNext %v, want %v", got, p.HasNext, want)
		}
	})
}

func TestSearchFilters(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, _ := newStore(t)
	mk := func(username, name, nickname string, role auth.Role) uuid.UUID {
		u := account(username, role)
		u.Name, u.Nickname = name, nickname
		return mustCreate(t, st, u).ID
	}
	alpha := mk("alphaKim1", "Alice", "wonder", auth.RoleUser)
	bravo := mk("bravo0002", "Kimberly", "bee", auth.RoleManager)
	charlie := mk("charlie03", "Carol", "KIMCHI", auth.RoleUser)
	delta := mk("delta0004", "Dave", "dd", auth.RoleMaster)
	gone := mk("echo00005", "Kim", "kim", auth.RoleUser)
	if _, err := st.Update(ctx, gone, func(u *users.User) error {
		return u.Delete(auth.Identity{UserID: gone, Role: auth.RoleUser}, time.Now())
	}); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name   string
		filter users.Filter
		want   []uuid.UUID
	}{
		{"none", users.Filter{}, []uuid.UUID{alpha, bravo, charlie, delta}},
		{"keyword in any field", users.Filter{Keyword: "kim"}, []uuid.UUID{alpha, bravo, charlie}},
		{"keyword upper case", users.Filter{Keyword: "KIM"}, []uuid.UUID{alpha, bravo, charlie}},
		{"keyword and role", users.Filter{Keyword: "kim", Role: auth.RoleUser}, []uuid.UUID{alpha, charlie}},
		{"role manager", users.Filter{Role: auth.RoleManager}, []uuid.UUID{bravo}},
		{"role master", users.Filter{Role: auth.RoleMaster}, []uuid.UUID{delta}},
		{"username", users.Filter{Username: "ALPHA"}, []uuid.UUID{alpha}},
		{"username only looks at usernames", users.Filter{Username: "kim"}, []uuid.UUID{alpha}},
		{"name", users.Filter{Name: "kim"}, []uuid.UUID{bravo}},
		{"nickname", users.Filter{Nickname: "kimch"}, []uuid.UUID{charlie}},
		{"all filters must match", users.Filter{Name: "kim", Nickname: "kim"}, nil},
		{"keyword middle of a word", users.Filter{Keyword: "ARO"}, []uuid.UUID{charlie}},
		{"percent is literal", users.Filter{Keyword: "%"}, nil},
		{"underscore is literal", users.Filter{Keyword: "_"}, nil},
		{"underscore inside a word", users.Filter{Keyword: "a_ice"}, nil},
		{"percent inside a word", users.Filter{Name: "c%l"}, nil},
		{"backslash is literal", users.Filter{Keyword: `\`}, nil},
		{"no match", users.Filter{Keyword: "zzz"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, err := st.Search(ctx, tt.filter, users.Sort{Field: "username"}, 20, "")
			if err != nil {
				t.Fatal(err)
			}
			if p.Content == nil || p.HasNext {
				t.Errorf("content %v hasNext %v", p.Content, p.HasNext)
			}
			got := make([]uuid.UUID, len(p.Content))
			for i, v := range p.Content {
				got[i] = v.UserID
			}
			// The wanted ids are listed in username order already.
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestSearchRefusesForeignCursor(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, _ := newStore(t)
	for _, name := range []string{"alpha0001", "bravo0002", "charlie03"} {
		mustCreate(t, st, account(name, auth.RoleUser))
	}
	byUsername := users.Sort{Field: "username"}
	first, err := st.Search(ctx, users.Filter{}, byUsername, 1, "")
	if err != nil || !first.HasNext {
		t.Fatalf("first page = %+v, %v", first, err)
	}
	cursor := first.NextCursor
	// The same query with another size still pages on.
	next, err := st.Search(ctx, users.Filter{}, byUsername, 2, cursor)
	if err != nil || len(next.Content) != 2 || next.Content[0].Username != "bravo0002" {
		t.Fatalf("next page = %+v, %v", next, err)
	}

	tests := []struct {
		name   string
		filter users.Filter
		sort   users.Sort
		cursor string
	}{
		{"other direction", users.Filter{}, users.Sort{Field: "username", Desc: true}, cursor},
		{"other field", users.Filter{}, users.Sort{Field: "name"}, cursor},
		{"created at", users.Filter{}, users.Sort{Field: "createdAt"}, cursor},
		{"with a keyword", users.Filter{Keyword: "a"}, byUsername, cursor},
		{"with a role", users.Filter{Role: auth.RoleUser}, byUsername, cursor},
		{"with a name", users.Filter{Name: "Tester"}, byUsername, cursor},
		{"garbage", users.Filter{}, byUsername, "not a cursor"},
		{"truncated", users.Filter{}, byUsername, cursor[:len(cursor)/2]},
		{"another list's cursor", users.Filter{}, byUsername, page.Encode("products:createdAt,desc", map[string]string{"t": "x"})},
		{"users cursor without the filter", users.Filter{}, byUsername, page.Encode("users:username,asc", map[string]string{"t": "x"})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, err := st.Search(ctx, tt.filter, tt.sort, 10, tt.cursor)
			if !errors.Is(err, page.ErrCursor) {
				t.Fatalf("Search = %d rows, %v; want ErrCursor", len(p.Content), err)
			}
			if f, ok := fault.As(err); !ok || f.Code != "C015" || f.Field != "cursor" {
				t.Errorf("fault = %v", f)
			}
		})
	}
}
