package update_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/google/uuid"

	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/devstack/stacktest"
	"github.com/8949market/market/shared/users/usertest"
)

type stored struct {
	Name, Nickname, Role string
	Version              int64
	ModifiedBy           uuid.UUID
}

func storedOf(t *testing.T, st *stacktest.Stack, id uuid.UUID) stored {
	t.Helper()
	var s stored
	if err := st.Kit.DB.QueryRow(context.Background(),
		`SELECT name, nickname, role, token_version, modified_by FROM users.users WHERE id = $1`, id).
		Scan(&s.Name, &s.Nickname, &s.Role, &s.Version, &s.ModifiedBy); err != nil {
		t.Fatal(err)
	}
	return s
}

func patch(t *testing.T, st *stacktest.Stack, id uuid.UUID, body any, token string) stacktest.Response {
	t.Helper()
	return st.Do(t, "PATCH", "/api/v1/users/"+id.String(), body, token)
}

func TestUpdate(t *testing.T) {
	t.Parallel()
	st := stacktest.Start(t)
	master := usertest.BootstrapAdmin(t, st)
	manager := usertest.NewAccount(t, st, auth.RoleManager, nil)

	t.Run("a manager renames a user", func(t *testing.T) {
		t.Parallel()
		u := usertest.NewAccount(t, st, auth.RoleUser, nil)
		res := patch(t, st, u.ID, map[string]any{"name": "Renamed", "nickname": "Renamed7"}, manager.Token)
		if res.Status != http.StatusOK {
			t.Fatalf("status %d: %s", res.Status, res.Body)
		}
		var m usertest.Modified
		res.Data(t, &m)
		if m.UserID != u.ID || m.ModifiedBy != manager.ID || m.ModifiedAt.IsZero() {
			t.Errorf("answer %+v", m)
		}
		if s := storedOf(t, st, u.ID); s != (stored{"Renamed", "Renamed7", "USER", 0, manager.ID}) {
			t.Errorf("row %+v", s)
		}
		// No role change: the user stays signed in.
		if role := usertest.Me(t, st, u.Token).UserRole; role != "USER" {
			t.Errorf("role %s", role)
		}
	})

	t.Run("refusals", func(t *testing.T) {
		target := usertest.NewAccount(t, st, auth.RoleUser, nil)
		other := usertest.NewAccount(t, st, auth.RoleManager, nil)
		plain := usertest.NewAccount(t, st, auth.RoleUser, nil)
		usertest.Unchanged(t, st, "a refused update", target.ID, other.ID, master.ID, manager.ID)
		tests := []struct {
			name   string
			id     string
			body   any
			token  string
			status int
			code   string
		}{
			{"manager grants MANAGER", target.ID.String(), map[string]any{"userRole": "MANAGER"}, manager.Token, 403, "U016"},
			{"manager grants MASTER", target.ID.String(), map[string]any{"userRole": "MASTER"}, manager.Token, 403, "U016"},
			{"manager grants ROLE_manager", target.ID.String(), map[string]any{"userRole": "ROLE_manager"}, manager.Token, 403, "U016"},
			{"manager grants in Korean", target.ID.String(), map[string]any{"userRole": "총관리자"}, manager.Token, 403, "U016"},
			{"manager renames and grants", target.ID.String(), map[string]any{"name": "Fine", "userRole": "MANAGER"}, manager.Token, 403, "U016"},
			{"manager demotes a manager", other.ID.String(), map[string]any{"userRole": "USER"}, manager.Token, 403, "U030"},
			{"manager promotes a manager", other.ID.String(), map[string]any{"userRole": "MASTER"}, manager.Token, 403, "U030"},
			{"manager promotes themself", manager.ID.String(), map[string]any{"userRole": "MASTER"}, manager.Token, 403, "U016"},
			{"manager renames a master", master.ID.String(), map[string]any{"name": "Renamed"}, manager.Token, 403, "U030"},
			{"manager demotes a master", master.ID.String(), map[string]any{"userRole": "USER"}, manager.Token, 403, "U030"},
			{"unknown role", target.ID.String(), map[string]any{"userRole": "BOSS"}, master.Token, 404, "U019"},
			{"unknown role from a manager", target.ID.String(), map[string]any{"userRole": "ADMIN"}, manager.Token, 404, "U019"},
			{"empty body", target.ID.String(), map[string]any{}, master.Token, 400, "C001"},
			{"bad name", target.ID.String(), map[string]any{"name": "R2D2"}, master.Token, 400, "U008"},
			{"bad nickname", target.ID.String(), map[string]any{"nickname": "no spaces"}, master.Token, 400, "U010"},
			{"password", target.ID.String(), map[string]any{"password": "Secret!123"}, master.Token, 400, "C009"},
			{"username", target.ID.String(), map[string]any{"username": "renamed123"}, master.Token, 400, "C009"},
			{"chat ranges", target.ID.String(), map[string]any{"chatTimeRanges": []any{}}, master.Token, 400, "C009"},
			{"role as number", target.ID.String(), map[string]any{"userRole": 1}, master.Token, 400, "C010"},
			{"a user", target.ID.String(), map[string]any{"name": "Renamed"}, plain.Token, 403, "U015"},
			{"a user on themself", plain.ID.String(), map[string]any{"userRole": "MASTER"}, plain.Token, 403, "U015"},
			{"a user on an unknown id", uuid.NewString(), map[string]any{"name": "Renamed"}, plain.Token, 403, "U015"},
			{"unknown id", uuid.NewString(), map[string]any{"name": "Renamed"}, master.Token, 404, "U017"},
			{"malformed id", "not-a-uuid", map[string]any{"name": "Renamed"}, master.Token, 400, "C015"},
			{"no token", target.ID.String(), map[string]any{"name": "Renamed"}, "", 401, "C002"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				st.Do(t, "PATCH", "/api/v1/users/"+tt.id, tt.body, tt.token).Refused(t, tt.status, tt.code)
			})
		}
	})

	t.Run("a master promotes a user, who must sign in again", func(t *testing.T) {
		t.Parallel()
		u := usertest.NewAccount(t, st, auth.RoleUser, nil)
		old := st.Login(t, u.Username, u.Password)
		res := patch(t, st, u.ID, map[string]any{"userRole": "MANAGER"}, master.Token)
		if res.Status != http.StatusOK {
			t.Fatalf("status %d: %s", res.Status, res.Body)
		}
		if s := storedOf(t, st, u.ID); s.Role != "MANAGER" || s.Version != 1 || s.ModifiedBy != master.ID {
			t.Errorf("row %+v", s)
		}
		for name, token := range map[string]string{"login": old.AccessToken, "minted": u.Token} {
			res := st.Do(t, "GET", "/api/v1/users/me", nil, token)
			if e := res.Error(t); res.Status != 401 || e.Code != "C002" {
				t.Errorf("old %s token: status %d code %s, want 401 C002", name, res.Status, e.Code)
			}
		}
		res = st.Do(t, "POST", "/api/v1/auth/reissue", map[string]string{"accessToken": old.AccessToken, "refreshToken": old.RefreshToken}, "")
		if res.Status != 401 {
			t.Errorf("reissue of the old session: status %d, want 401: %s", res.Status, res.Body)
		}
		fresh := st.Login(t, u.Username, u.Password)
		if role := usertest.Me(t, st, fresh.AccessToken).UserRole; role != "MANAGER" {
			t.Errorf("role %s after a fresh login, want MANAGER", role)
		}
		if res := st.Do(t, "GET", "/api/v1/users", nil, fresh.AccessToken); res.Status != http.StatusOK {
			t.Errorf("the new manager lists users: status %d: %s", res.Status, res.Body)
		}
	})

	t.Run("a master demotes a manager, by the Korean label", func(t *testing.T) {
		t.Parallel()
		m := usertest.NewAccount(t, st, auth.RoleManager, nil)
		if res := patch(t, st, m.ID, map[string]any{"userRole": "일반 사용자"}, master.Token); res.Status != http.StatusOK {
			t.Fatalf("status %d: %s", res.Status, res.Body)
		}
		if s := storedOf(t, st, m.ID); s.Role != "USER" || s.Version != 1 {
			t.Errorf("row %+v", s)
		}
		if res := st.Do(t, "GET", "/api/v1/users", nil, m.Token); res.Status != 401 {
			t.Errorf("the old manager token lists users: status %d", res.Status)
		}
	})

	t.Run("restating the current role signs nobody out", func(t *testing.T) {
		t.Parallel()
		u := usertest.NewAccount(t, st, auth.RoleUser, nil)
		if res := patch(t, st, u.ID, map[string]any{"userRole": "ROLE_USER"}, manager.Token); res.Status != http.StatusOK {
			t.Fatalf("status %d: %s", res.Status, res.Body)
		}
		if s := storedOf(t, st, u.ID); s.Role != "USER" || s.Version != 0 {
			t.Errorf("row %+v", s)
		}
		if role := usertest.Me(t, st, u.Token).UserRole; role != "USER" {
			t.Errorf("role %s", role)
		}
	})
}
