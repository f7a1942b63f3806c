package list_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/devstack/stacktest"
	"github.com/8949market/market/shared/page"
	"github.com/8949market/market/shared/reservations"
	rt "github.com/8949market/market/shared/reservations/reservationtest"
)

func list(t *testing.T, st *stacktest.Stack, query url.Values, token string) page.Page[reservations.Item] {
	t.Helper()
	res := st.Do(t, "GET", "/api/v1/reservations?"+query.Encode(), nil, token)
	if res.Status != http.StatusOK {
		t.Fatalf("list %s: status %d: %s", query.Encode(), res.Status, res.Body)
	}
	var p page.Page[reservations.Item]
	res.Data(t, &p)
	for i := 1; i < len(p.Content); i++ {
		if p.Content[i].CreatedAt.After(p.Content[i-1].CreatedAt) {
			t.Fatalf("not newest first: %v after %v", p.Content[i].CreatedAt, p.Content[i-1].CreatedAt)
		}
	}
	return p
}

func ids(items []reservations.Item) []uuid.UUID {
	out := make([]uuid.UUID, len(items))
	for i, it := range items {
		out[i] = it.ReservationID
	}
	slices.SortFunc(out, func(a, b uuid.UUID) int { return bytes.Compare(a[:], b[:]) })
	return out
}

func set(deals ...rt.Deal) []uuid.UUID {
	out := make([]uuid.UUID, len(deals))
	for i, d := range deals {
		out[i] = d.ID
	}
	slices.SortFunc(out, func(a, b uuid.UUID) int { return bytes.Compare(a[:], b[:]) })
	return out
}

// Four deals of two sellers; buyer A holds two of them, B waits behind A in one, C holds
// the fourth. Each caller lists only what they sell or hold; administrators list all.
func TestListScope(t *testing.T) {
	t.Parallel()
	st := stacktest.Start(t)
	s1, s2 := rt.NewUser(t, st, auth.RoleUser), rt.NewUser(t, st, auth.RoleUser)
	users := rt.Users(t, st, 3)
	a, b, c := users[0], users[1], users[2]
	d1 := rt.OpenFor(t, st, s1, "Oak chair", -time.Second, time.Hour)
	d2 := rt.OpenFor(t, st, s1, "Pine table", -time.Second, time.Hour)
	d3 := rt.OpenFor(t, st, s2, "Oak bed", -time.Second, time.Hour)
	d4 := rt.OpenFor(t, st, s2, "Brass lamp", -time.Second, time.Hour)
	rt.Queue(t, st, d1.ID, a, b)
	rt.Queue(t, st, d3.ID, a)
	rt.Queue(t, st, d4.ID, c)
	admin := rt.NewUser(t, st, auth.RoleManager)
	stranger := rt.NewUser(t, st, auth.RoleUser)

	cases := []struct {
		name  string
		who   rt.User
		query url.Values
		want  []uuid.UUID
	}{
		{"seller", s1, nil, set(d1, d2)},
		{"other seller", s2, nil, set(d3, d4)},
		{"buyer of two", a, nil, set(d1, d3)},
		{"waiting applicant is neither buyer nor seller", b, nil, nil},
		{"stranger", stranger, nil, nil},
		{"admin", admin, nil, set(d1, d2, d3, d4)},
		{"seller by status", s1, url.Values{"status": {"PENDING"}}, set(d1)},
		{"status in lower case", s1, url.Values{"status": {"available"}}, set(d2)},
		{"admin by product name", admin, url.Values{"productName": {"oAk"}}, set(d1, d3)},
		{"admin by seller name", admin, url.Values{"sellerName": {s2.Nickname}}, set(d3, d4)},
		{"admin by buyer name", admin, url.Values{"buyerName": {a.Nickname}}, set(d1, d3)},
		{"buyer by product name", a, url.Values{"productName": {"bed"}}, set(d3)},
		{"seller cannot widen by seller name", s1, url.Values{"sellerName": {s2.Nickname}}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := list(t, st, tc.query, tc.who.Token)
			if got := ids(p.Content); !slices.Equal(got, tc.want) {
				t.Fatalf("listed %v, want %v", got, tc.want)
			}
			if p.HasNext || p.NextCursor != "" {
				t.Fatalf("one page expected: %+v", p)
			}
		})
	}

	t.Run("item", func(t *testing.T) {
		t.Parallel()
		p := list(t, st, url.Values{"productName": {"Oak chair"}}, a.Token)
		if len(p.Content) != 1 {
			t.Fatalf("items %+v", p.Content)
		}
		it := p.Content[0]
		if it.ReservationID != d1.ID || it.ProductID != d1.ProductID || it.Status != reservations.Pending ||
			it.ProductName != "Oak chair" || it.Price != 1000 || it.SellerNickname != s1.Nickname || it.BuyerNickname != a.Nickname {
			t.Fatalf("item %+v", it)
		}
	})

	t.Run("pages", func(t *testing.T) {
		t.Parallel()
		var seen []reservations.Item
		q := url.Values{"size": {"1"}}
		for range 10 {
			p := list(t, st, q, admin.Token)
			if len(p.Content) != 1 {
				t.Fatalf("page of %d", len(p.Content))
			}
			seen = append(seen, p.Content...)
			if !p.HasNext {
				break
			}
			q.Set("cursor", p.NextCursor)
		}
		if got := ids(seen); !slices.Equal(got, set(d1, d2, d3, d4)) {
			t.Fatalf("pages gave %v", got)
		}
		for i := 1; i < len(seen); i++ {
			if seen[i].CreatedAt.After(seen[i-1].CreatedAt) {
				t.Fatal("pages not newest first")
			}
		}

		// A cursor is good only for the query and the caller it was made for.
		first := list(t, st, url.Values{"size": {"1"}}, admin.Token)
		st.Do(t, "GET", "/api/v1/reservations?size=1&status=PENDING&cursor="+first.NextCursor, nil, admin.Token).
			Refused(t, http.StatusBadRequest, "C015")
		st.Do(t, "GET", "/api/v1/reservations?size=1&cursor="+first.NextCursor, nil, s1.Token).
			Refused(t, http.StatusBadRequest, "C015")
	})

	t.Run("refusals", func(t *testing.T) {
		t.Parallel()
		cases := []struct {
			name, query, token string
			status             int
			code               string
		}{
			{"no token", "", "", http.StatusUnauthorized, "C002"},
			{"no token with productId", "productId=" + d1.ProductID.String(), "", http.StatusUnauthorized, "C002"},
			{"bad status", "status=SOLD", admin.Token, http.StatusBadRequest, "C015"},
			{"garbage cursor", "cursor=%21%21not-a-cursor", admin.Token, http.StatusBadRequest, "C015"},
			{"base64 but not a cursor", "cursor=" + "eyJmb28iOjF9", admin.Token, http.StatusBadRequest, "C015"},
			{"size zero", "size=0", admin.Token, http.StatusBadRequest, "C015"},
			{"size too large", "size=101", admin.Token, http.StatusBadRequest, "C015"},
			{"malformed productId", "productId=nope", stranger.Token, http.StatusBadRequest, "C015"},
			{"unknown productId", "productId=" + uuid.NewString(), stranger.Token, http.StatusNotFound, "R006"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				st.Do(t, "GET", "/api/v1/reservations?"+tc.query, nil, tc.token).Refused(t, tc.status, tc.code)
			})
		}
	})

	// productId= answers any signed-in user with the product's public summary: no names or
	// ids of the people in it, only the caller's own application.
	t.Run("product summary", func(t *testing.T) {
		t.Parallel()
		cases := []struct {
			name   string
			who    rt.User
			status string
			place  int64
		}{
			{"stranger", stranger, "", 0},
			{"seller", s1, "", 0},
			{"buyer", a, "SELECTED", 0},
			{"waiting", b, "WAITING", 1},
			{"admin", admin, "", 0},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				res := st.Do(t, "GET", "/api/v1/reservations?productId="+d1.ProductID.String(), nil, tc.who.Token)
				if res.Status != http.StatusOK {
					t.Fatalf("status %d: %s", res.Status, res.Body)
				}
				var s reservations.Summary
				res.Data(t, &s)
				if s.ReservationID != d1.ID || s.ProductID != d1.ProductID || s.Status != reservations.Pending || s.QueueLength != 1 {
					t.Fatalf("summary %+v", s)
				}
				switch {
				case tc.status == "" && s.MyApplication != nil:
					t.Fatalf("myApplication %+v, want none", s.MyApplication)
				case tc.status != "" && (s.MyApplication == nil || s.MyApplication.Status != tc.status || s.MyApplication.Place != tc.place):
					t.Fatalf("myApplication %+v, want %s at %d", s.MyApplication, tc.status, tc.place)
				}
				var raw struct {
					Data map[string]json.RawMessage `json:"data"`
				}
				if err := json.Unmarshal(res.Body, &raw); err != nil {
					t.Fatal(err)
				}
				for k := range raw.Data {
					if !slices.Contains([]string{"reservationId", "productId", "status", "startTime", "endTime", "queueLength", "myApplication"}, k) {
						t.Fatalf("the summary has %q: %s", k, res.Body)
					}
				}
				for _, secret := range []string{s1.UserID.String(), s1.Nickname, a.UserID.String(), a.Nickname, b.UserID.String(), b.Nickname} {
					if bytes.Contains(res.Body, []byte(secret)) && secret != tc.who.UserID.String() && secret != tc.who.Nickname {
						t.Fatalf("the summary shows %q: %s", secret, res.Body)
					}
				}
			})
		}
	})
}
