package updateme_test

import (
	"context"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/devstack/stacktest"
	"github.com/8949market/market/shared/users/usertest"
)

func rng(day, start, end string) map[string]any {
	r := map[string]any{}
	for k, v := range map[string]string{"dayOfWeek": day, "startTime": start, "endTime": end} {
		if v != "-" {
			r[k] = v
		}
	}
	return r
}

func ranges(rs ...map[string]any) map[string]any { return map[string]any{"chatTimeRanges": rs} }

func TestUpdateMe(t *testing.T) {
	t.Parallel()
	st := stacktest.Start(t)

	// What a user may not change is users.UpdateMe's (shared/users accounts_test.go); the
	// route refuses the bodies and callers that never reach it, and changes nothing.
	t.Run("refused at the route", func(t *testing.T) {
		t.Parallel()
		u := usertest.NewAccount(t, st, auth.RoleUser, nil)
		usertest.Unchanged(t, st, "a refused update", u.ID)
		tests := []struct {
			name   string
			body   any
			token  string
			status int
			code   string
			field  string
		}{
			{"no body", "", u.Token, 400, "C008", ""},
			{"malformed json", `{"name":`, u.Token, 400, "C008", ""},
			{"name as number", map[string]any{"name": 5}, u.Token, 400, "C010", "name"},
			{"own role", map[string]any{"userRole": "MASTER"}, u.Token, 400, "C009", "userRole"},
			{"own role beside a valid field", map[string]any{"name": "Fine", "userRole": "MANAGER"}, u.Token, 400, "C009", "userRole"},
			{"username", map[string]any{"username": "newname123"}, u.Token, 400, "C009", "username"},
			{"no token", map[string]any{"name": "Fine"}, "", 401, "C002", ""},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				st.Do(t, "PATCH", "/api/v1/users/me", tt.body, tt.token).RefusedOn(t, tt.status, tt.code, tt.field)
			})
		}
		t.Cleanup(func() {
			if d := usertest.Me(t, st, u.Token); d.UserRole != "USER" {
				t.Errorf("role %s after refused updates", d.UserRole)
			}
		})
	})

	t.Run("only the given fields change", func(t *testing.T) {
		t.Parallel()
		u := usertest.NewAccount(t, st, auth.RoleUser, nil)
		orig := usertest.Me(t, st, u.Token)
		hash, _ := secrets(t, st, u.ID)

		res := st.Do(t, "PATCH", "/api/v1/users/me", map[string]any{"nickname": "NewNick9"}, u.Token)
		if res.Status != http.StatusOK {
			t.Fatalf("status %d: %s", res.Status, res.Body)
		}
		var m usertest.Modified
		res.Data(t, &m)
		if m.UserID != u.ID || m.ModifiedBy != u.ID || m.ModifiedAt.Before(orig.CreatedAt) {
			t.Errorf("answer %+v", m)
		}
		// Not a password change: the same token keeps working.
		got := usertest.Me(t, st, u.Token)
		if got.Nickname != "NewNick9" || got.Name != orig.Name || !slices.Equal(got.ChatTimeRanges, orig.ChatTimeRanges) ||
			got.UserRole != "USER" || got.ModifiedBy != u.ID || got.ModifiedAt.Before(orig.ModifiedAt) {
			t.Errorf("after nickname change: %+v (was %+v)", got, orig)
		}
		// The answer reports the stored time, not a finer one the database never kept.
		if !got.ModifiedAt.Equal(m.ModifiedAt) {
			t.Errorf("the answer's modifiedAt %s is not the stored %s",
				m.ModifiedAt.Format(time.RFC3339Nano), got.ModifiedAt.Format(time.RFC3339Nano))
		}
		if h, v := secrets(t, st, u.ID); h != hash || v != 0 {
			t.Error("the password or token version changed without a password change")
		}

		// New ranges replace the old ones wholesale.
		res = st.Do(t, "PATCH", "/api/v1/users/me", map[string]any{
			"name": "새이름", "chatTimeRanges": []map[string]any{rng("FRIDAY", "20:00", "22:00:30"), rng("TUESDAY", "10:00", "11:00")},
		}, u.Token)
		if res.Status != http.StatusOK {
			t.Fatalf("status %d: %s", res.Status, res.Body)
		}
		got = usertest.Me(t, st, u.Token)
		want := []usertest.Range{
			{DayOfWeek: "TUESDAY", StartTime: "10:00:00", EndTime: "11:00:00"},
			{DayOfWeek: "FRIDAY", StartTime: "20:00:00", EndTime: "22:00:30"},
		}
		if got.Name != "새이름" || got.Nickname != "NewNick9" || !slices.Equal(got.ChatTimeRanges, want) {
			t.Errorf("after range change: %+v", got)
		}
		if n := usertest.RangeRows(t, st, u.ID); n != 2 {
			t.Errorf("%d range rows, want 2", n)
		}
	})

	t.Run("touching ranges are allowed", func(t *testing.T) {
		t.Parallel()
		u := usertest.NewAccount(t, st, auth.RoleUser, nil)
		res := st.Do(t, "PATCH", "/api/v1/users/me", ranges(
			rng("MONDAY", "10:00", "11:00"), rng("MONDAY", "09:00", "10:00"), rng("MONDAY", "11:00:00", "12:00"),
			rng("TUESDAY", "09:00", "10:00"),
		), u.Token)
		if res.Status != http.StatusOK {
			t.Fatalf("status %d: %s", res.Status, res.Body)
		}
		want := []usertest.Range{
			{DayOfWeek: "MONDAY", StartTime: "09:00:00", EndTime: "10:00:00"},
			{DayOfWeek: "MONDAY", StartTime: "10:00:00", EndTime: "11:00:00"},
			{DayOfWeek: "MONDAY", StartTime: "11:00:00", EndTime: "12:00:00"},
			{DayOfWeek: "TUESDAY", StartTime: "09:00:00", EndTime: "10:00:00"},
		}
		if got := usertest.Me(t, st, u.Token).ChatTimeRanges; !slices.Equal(got, want) {
			t.Errorf("ranges %+v, want %+v", got, want)
		}
	})

	t.Run("a new password ends every sign-in", func(t *testing.T) {
		t.Parallel()
		u := usertest.NewAccount(t, st, auth.RoleUser, nil)
		first := st.Login(t, u.Username, u.Password)
		second := st.Login(t, u.Username, u.Password)
		newPassword := "N3w!" + uuid.NewString()[:12]

		res := st.Do(t, "PATCH", "/api/v1/users/me", map[string]any{"password": newPassword}, first.AccessToken)
		if res.Status != http.StatusOK {
			t.Fatalf("status %d: %s", res.Status, res.Body)
		}
		for name, token := range map[string]string{"first login": first.AccessToken, "second login": second.AccessToken, "minted": u.Token} {
			res := st.Do(t, "GET", "/api/v1/users/me", nil, token)
			if e := res.Error(t); res.Status != 401 || e.Code != "C002" {
				t.Errorf("%s's access token: status %d code %s, want 401 C002", name, res.Status, e.Code)
			}
		}
		for name, pair := range map[string]stacktest.Pair{"first login": first, "second login": second} {
			res := st.Do(t, "POST", "/api/v1/auth/reissue", map[string]string{"accessToken": pair.AccessToken, "refreshToken": pair.RefreshToken}, "")
			if res.Status != 401 {
				t.Errorf("%s's reissue: status %d, want 401: %s", name, res.Status, res.Body)
			}
		}
		res = st.Do(t, "POST", "/api/v1/auth/login", map[string]string{"username": u.Username, "password": u.Password}, "")
		if e := res.Error(t); res.Status != 401 || e.Code != "U020" {
			t.Errorf("old password: status %d code %s, want 401 U020", res.Status, e.Code)
		}
		// Within the same second as the change, a fresh login is good.
		fresh := st.Login(t, u.Username, newPassword)
		if d := usertest.Me(t, st, fresh.AccessToken); d.UserID != u.ID || d.Name != "Tester" {
			t.Errorf("after the change: %+v", d)
		}
		if _, v := secrets(t, st, u.ID); v != 1 {
			t.Errorf("token version %d, want 1", v)
		}
	})
}

// secrets is what a password change replaces: the stored hash and the token version.
func secrets(t *testing.T, st *stacktest.Stack, id uuid.UUID) (hash string, version int64) {
	t.Helper()
	if err := st.Kit.DB.QueryRow(context.Background(),
		`SELECT password_hash, token_version FROM users.users WHERE id = $1`, id).Scan(&hash, &version); err != nil {
		t.Fatal(err)
	}
	return hash, version
}
