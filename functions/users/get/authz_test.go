package get_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/devstack/stacktest"
	"github.com/8949market/market/shared/users/usertest"
)

// TestAuthorisationMatrix checks, from outside, that one user can never reach another's
// account through any user route, and that non-administrators learn nothing about ids.
func TestAuthorisationMatrix(t *testing.T) {
	t.Parallel()
	st := stacktest.Start(t)
	a := usertest.NewAccount(t, st, auth.RoleUser, nil)
	b := usertest.NewAccount(t, st, auth.RoleUser, nil)
	manager := usertest.NewAccount(t, st, auth.RoleManager, nil)
	master := usertest.BootstrapAdmin(t, st)
	ghost, _ := st.Token(t, auth.RoleUser)
	before := usertest.RowOf(t, st, b.ID)
	bPath := "/api/v1/users/" + b.ID.String()
	unknown := "/api/v1/users/" + uuid.NewString()

	t.Run("refusals", func(t *testing.T) {
		tests := []struct {
			name, method, path string
			body               any
			token              string
			status             int
			code               string
		}{
			{"A reads B", "GET", bPath, nil, a.Token, 403, "U015"},
			{"A renames B", "PATCH", bPath, map[string]any{"name": "Hacked"}, a.Token, 403, "U015"},
			{"A promotes B", "PATCH", bPath, map[string]any{"userRole": "MASTER"}, a.Token, 403, "U015"},
			{"A deletes B", "DELETE", bPath, nil, a.Token, 403, "U024"},
			{"A lists users", "GET", "/api/v1/users", nil, a.Token, 403, "U015"},
			{"A lists users by keyword", "GET", "/api/v1/users?keyword=" + b.Username, nil, a.Token, 403, "U015"},
			{"A patches an unknown id", "PATCH", unknown, map[string]any{"name": "Hacked"}, a.Token, 403, "U015"},
			{"A reads an unknown id", "GET", unknown, nil, a.Token, 403, "U015"},
			{"A deletes an unknown id", "DELETE", unknown, nil, a.Token, 403, "U024"},
			{"A promotes themself", "PATCH", "/api/v1/users/" + a.ID.String(), map[string]any{"userRole": "MASTER"}, a.Token, 403, "U015"},
			{"no token: me", "GET", "/api/v1/users/me", nil, "", 401, "C002"},
			{"no token: update me", "PATCH", "/api/v1/users/me", map[string]any{"name": "Hacked"}, "", 401, "C002"},
			{"no token: get", "GET", bPath, nil, "", 401, "C002"},
			{"no token: list", "GET", "/api/v1/users", nil, "", 401, "C002"},
			{"no token: update", "PATCH", bPath, map[string]any{"name": "Hacked"}, "", 401, "C002"},
			{"no token: delete", "DELETE", bPath, nil, "", 401, "C002"},
			{"no token: chat availability", "GET", bPath + "/chat-availability?chatDate=2026-11-23&chatTime=10:00", nil, "", 401, "C002"},
			{"forged token: get", "GET", bPath, nil, a.Token[:len(a.Token)-4] + "AAAA", 401, "C002"},
			{"token of a user not in the database: me", "GET", "/api/v1/users/me", nil, ghost, 404, "U017"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				st.Do(t, tt.method, tt.path, tt.body, tt.token).Refused(t, tt.status, tt.code)
			})
		}
	})

	t.Run("administrators read any user", func(t *testing.T) {
		for _, admin := range []usertest.Account{manager, master} {
			res := st.Do(t, "GET", bPath, nil, admin.Token)
			var d usertest.Detail
			res.Data(t, &d)
			if res.Status != http.StatusOK || d.UserID != b.ID || d.Username != b.Username {
				t.Errorf("%s read B: status %d %+v", admin.Role, res.Status, d)
			}
		}
	})

	t.Run("identity headers from the client are ignored", func(t *testing.T) {
		spoof := func(method, path, body string) (int, string) {
			t.Helper()
			req, err := http.NewRequest(method, st.URL+path, strings.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			if body != "" {
				req.Header.Set("Content-Type", "application/json")
			}
			req.Header.Set("Authorization", "Bearer "+a.Token)
			req.Header.Set("X-User-Id", b.ID.String())
			req.Header.Set("X-User-Roles", "MASTER")
			req.Header.Set("X-User-Role", "MASTER")
			req.Header.Set("X-Username", b.Username)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			raw, err := io.ReadAll(res.Body)
			if err != nil {
				t.Fatal(err)
			}
			r := stacktest.Response{Status: res.StatusCode, Header: res.Header, Body: raw}
			if res.StatusCode == http.StatusOK {
				var d usertest.Detail
				r.Data(t, &d)
				return res.StatusCode, d.UserID.String()
			}
			return res.StatusCode, r.Error(t).Code
		}
		if status, code := spoof("GET", bPath, ""); status != 403 || code != "U015" {
			t.Errorf("GET B with spoofed headers: %d %s, want 403 U015", status, code)
		}
		if status, code := spoof("PATCH", bPath, `{"name":"Hacked"}`); status != 403 || code != "U015" {
			t.Errorf("PATCH B with spoofed headers: %d %s, want 403 U015", status, code)
		}
		if status, code := spoof("DELETE", bPath, ""); status != 403 || code != "U024" {
			t.Errorf("DELETE B with spoofed headers: %d %s, want 403 U024", status, code)
		}
		if status, code := spoof("GET", "/api/v1/users", ""); status != 403 || code != "U015" {
			t.Errorf("list with spoofed headers: %d %s, want 403 U015", status, code)
		}
		// /users/me answers for the token's user, never the header's.
		if status, id := spoof("GET", "/api/v1/users/me", ""); status != 200 || id != a.ID.String() {
			t.Errorf("me with spoofed headers: %d %s, want 200 %s", status, id, a.ID)
		}
	})

	if after := usertest.RowOf(t, st, b.ID); after != before {
		t.Errorf("B's row changed:\nbefore %s\nafter  %s", before, after)
	}
	if res := st.Do(t, "GET", "/api/v1/users/me", nil, b.Token); res.Status != http.StatusOK {
		t.Errorf("B's own token: status %d: %s", res.Status, res.Body)
	}
}
