package remove_test

import (
	"context"
	"encoding/json"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/devstack/stacktest"
	"github.com/8949market/market/shared/registry"
	"github.com/8949market/market/shared/users/usertest"
)

type deleted struct {
	UserID    uuid.UUID `json:"userId"`
	DeletedAt time.Time `json:"deletedAt"`
	DeletedBy uuid.UUID `json:"deletedBy"`
}

func remove(t *testing.T, st *stacktest.Stack, id uuid.UUID, token string) stacktest.Response {
	t.Helper()
	return st.Do(t, "DELETE", "/api/v1/users/"+id.String(), nil, token)
}

func TestRemoveSelf(t *testing.T) {
	t.Parallel()
	st := stacktest.Start(t)
	admin := usertest.BootstrapAdmin(t, st)
	u := usertest.NewAccount(t, st, auth.RoleUser, map[string]any{"chatTimeRanges": []map[string]string{
		{"dayOfWeek": "MONDAY", "startTime": "09:00", "endTime": "12:00"},
		{"dayOfWeek": "MONDAY", "startTime": "13:00", "endTime": "18:00"},
		{"dayOfWeek": "FRIDAY", "startTime": "20:00", "endTime": "21:00"},
	}})
	first := st.Login(t, u.Username, u.Password)
	second := st.Login(t, u.Username, u.Password)
	if n := usertest.RangeRows(t, st, u.ID); n != 3 {
		t.Fatalf("%d range rows before, want 3", n)
	}

	res := remove(t, st, u.ID, first.AccessToken)
	if res.Status != http.StatusOK {
		t.Fatalf("status %d: %s", res.Status, res.Body)
	}
	var raw map[string]json.RawMessage
	res.Data(t, &raw)
	if keys := slices.Sorted(maps.Keys(raw)); !slices.Equal(keys, []string{"deletedAt", "deletedBy", "userId"}) {
		t.Errorf("answer fields %v", keys)
	}
	var d deleted
	res.Data(t, &d)
	if d.UserID != u.ID || d.DeletedBy != u.ID || time.Since(d.DeletedAt).Abs() > time.Minute {
		t.Errorf("answer %+v", d)
	}
	var deletedAt *time.Time
	var deletedBy *uuid.UUID
	if err := st.Kit.DB.QueryRow(context.Background(),
		`SELECT deleted_at, deleted_by FROM users.users WHERE id = $1`, u.ID).Scan(&deletedAt, &deletedBy); err != nil {
		t.Fatal(err)
	}
	if deletedAt == nil || deletedBy == nil || *deletedBy != u.ID {
		t.Fatalf("row deleted_at %v deleted_by %v", deletedAt, deletedBy)
	}
	// The answer reports the stored time, not a finer one the database never kept.
	if !deletedAt.Equal(d.DeletedAt) {
		t.Errorf("the answer's deletedAt %s is not the stored %s",
			d.DeletedAt.Format(time.RFC3339Nano), deletedAt.UTC().Format(time.RFC3339Nano))
	}
	if n := usertest.RangeRows(t, st, u.ID); n != 0 {
		t.Errorf("%d range rows left", n)
	}

	t.Run("every function refuses the account's tokens", func(t *testing.T) {
		param := regexp.MustCompile(`\{[^}]+\}`)
		checked := 0
		for _, f := range registry.All() {
			if f.Kind != registry.KindHTTP || (f.Public && f.Name != "auth-signup") {
				continue
			}
			path := param.ReplaceAllString(f.Pattern.String(), u.ID.String())
			var body any
			if f.Method != "GET" && f.Method != "DELETE" {
				body = map[string]any{}
			}
			for name, token := range map[string]string{"first": first.AccessToken, "second": second.AccessToken, "minted": u.Token} {
				res := st.Do(t, f.Method, path, body, token)
				if res.Status != http.StatusUnauthorized {
					t.Errorf("%s with the %s token: status %d, want 401: %s", f.Route(), name, res.Status, res.Body)
				}
			}
			checked++
		}
		if checked < 8 {
			t.Errorf("only %d functions checked", checked)
		}
	})

	t.Run("its sessions end", func(t *testing.T) {
		for _, p := range []stacktest.Pair{first, second} {
			res := st.Do(t, "POST", "/api/v1/auth/reissue", map[string]string{"accessToken": p.AccessToken, "refreshToken": p.RefreshToken}, "")
			if res.Status != http.StatusUnauthorized {
				t.Errorf("reissue: status %d, want 401: %s", res.Status, res.Body)
			}
		}
		res := st.Do(t, "POST", "/api/v1/auth/login", map[string]string{"username": u.Username, "password": u.Password}, "")
		if e := res.Error(t); res.Status != 401 || e.Code != "U020" {
			t.Errorf("login: status %d code %s, want 401 U020", res.Status, e.Code)
		}
	})

	t.Run("the account is gone for administrators", func(t *testing.T) {
		for _, path := range []string{"/api/v1/users/" + u.ID.String(), "/api/v1/users/" + u.ID.String() + "/chat-availability?chatDate=2026-11-23&chatTime=10:00"} {
			res := st.Do(t, "GET", path, nil, admin.Token)
			if e := res.Error(t); res.Status != 404 || e.Code != "U017" {
				t.Errorf("GET %s: status %d code %s, want 404 U017", path, res.Status, e.Code)
			}
		}
		res := remove(t, st, u.ID, admin.Token)
		if e := res.Error(t); res.Status != 404 || e.Code != "U017" {
			t.Errorf("delete again: status %d code %s, want 404 U017", res.Status, e.Code)
		}
		var p struct {
			Content []struct {
				UserID uuid.UUID `json:"userId"`
			} `json:"content"`
		}
		st.Do(t, "GET", "/api/v1/users?username="+u.Username, nil, admin.Token).Data(t, &p)
		if len(p.Content) != 0 {
			t.Errorf("listed: %+v", p.Content)
		}
	})

	t.Run("the username can be taken again", func(t *testing.T) {
		again := usertest.NewAccount(t, st, auth.RoleUser, map[string]any{"username": u.Username})
		if again.ID == u.ID {
			t.Fatal("the same id came back")
		}
		res := st.Do(t, "GET", "/api/v1/users/"+again.ID.String(), nil, admin.Token)
		var d struct {
			Username string `json:"username"`
		}
		res.Data(t, &d)
		if d.Username != u.Username {
			t.Errorf("username %q", d.Username)
		}
		// The old account's tokens do not come back to life with the name.
		if res := st.Do(t, "GET", "/api/v1/users/me", nil, first.AccessToken); res.Status != http.StatusUnauthorized {
			t.Errorf("old token: status %d", res.Status)
		}
	})

	// Who may delete whom is users.Remove's (shared/users accounts_test.go); the route
	// refuses what never reaches it.
	t.Run("refused at the route", func(t *testing.T) {
		st.Do(t, "DELETE", "/api/v1/users/not-a-uuid", nil, admin.Token).Refused(t, 400, "C015")
		st.Do(t, "DELETE", "/api/v1/users/"+admin.ID.String(), nil, "").Refused(t, 401, "C002")
	})
}
