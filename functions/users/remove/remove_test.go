package remove_test

import (
	"context"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/8949market/market/shared/api"
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
}

// TestRemoveRules runs on a stack whose bootstrap administrator is the only MASTER.
func TestRemoveRules(t *testing.T) {
	t.Parallel()
	st := stacktest.Start(t)
	master := usertest.BootstrapAdmin(t, st)
	manager := usertest.NewAccount(t, st, auth.RoleManager, nil)

	t.Run("a manager deletes a user", func(t *testing.T) {
		t.Parallel()
		u := usertest.NewAccount(t, st, auth.RoleUser, nil)
		res := remove(t, st, u.ID, manager.Token)
		var d deleted
		res.Data(t, &d)
		if res.Status != http.StatusOK || d.UserID != u.ID || d.DeletedBy != manager.ID {
			t.Errorf("status %d answer %+v", res.Status, d)
		}
		if n := usertest.RangeRows(t, st, u.ID); n != 0 {
			t.Errorf("%d range rows left", n)
		}
		if res := st.Do(t, "GET", "/api/v1/users/me", nil, u.Token); res.Status != http.StatusUnauthorized {
			t.Errorf("the deleted user's token: status %d", res.Status)
		}
	})

	t.Run("a master deletes a manager", func(t *testing.T) {
		t.Parallel()
		m := usertest.NewAccount(t, st, auth.RoleManager, nil)
		if res := remove(t, st, m.ID, master.Token); res.Status != http.StatusOK {
			t.Errorf("status %d: %s", res.Status, res.Body)
		}
	})

	t.Run("refusals", func(t *testing.T) {
		alice := usertest.NewAccount(t, st, auth.RoleUser, nil)
		bob := usertest.NewAccount(t, st, auth.RoleUser, nil)
		gone := usertest.Gone(t, st)
		ghostMaster, _ := st.Token(t, auth.RoleMaster)
		// Cleanups run last first: the rows are compared, then the last master's token tried.
		t.Cleanup(func() {
			if res := st.Do(t, "GET", "/api/v1/users/me", nil, master.Token); res.Status != http.StatusOK {
				t.Errorf("the last master's token after refusals: status %d", res.Status)
			}
		})
		usertest.Unchanged(t, st, "a refused delete", master.ID, manager.ID, alice.ID, bob.ID)
		tests := []struct {
			name, id, token string
			status          int
			code            string
		}{
			{"a manager deletes a master", master.ID.String(), manager.Token, 403, "U030"},
			{"a user deletes another user", bob.ID.String(), alice.Token, 403, "U024"},
			{"a user deletes a manager", manager.ID.String(), alice.Token, 403, "U024"},
			{"a user deletes a master", master.ID.String(), alice.Token, 403, "U024"},
			{"a user deletes an unknown id", uuid.NewString(), alice.Token, 403, "U024"},
			{"a manager deletes an unknown id", uuid.NewString(), manager.Token, 404, "U017"},
			{"a manager deletes a deleted user", gone.ID.String(), manager.Token, 404, "U017"},
			{"malformed id", "not-a-uuid", master.Token, 400, "C015"},
			{"no token", bob.ID.String(), "", 401, "C002"},
			{"the last master deletes themself", master.ID.String(), master.Token, 409, "U029"},
			{"another master deletes the last one", master.ID.String(), ghostMaster, 409, "U029"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				st.Do(t, "DELETE", "/api/v1/users/"+tt.id, nil, tt.token).Refused(t, tt.status, tt.code)
			})
		}
	})
}

// outcome is one side of a race: the status and code it got.
type outcome struct {
	status int
	code   string
	err    error
}

// deleteAt sends a DELETE once start closes; it runs off the test goroutine, so it
// reports errors instead of failing the test.
func deleteAt(st *stacktest.Stack, start <-chan struct{}, id uuid.UUID, token string) outcome {
	req, err := http.NewRequest("DELETE", st.URL+"/api/v1/users/"+id.String(), nil)
	if err != nil {
		return outcome{err: err}
	}
	req.Header.Set("Authorization", "Bearer "+token)
	<-start
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return outcome{err: err}
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		return outcome{err: err}
	}
	o := outcome{status: res.StatusCode}
	if res.StatusCode != http.StatusOK {
		var e api.ErrorBody
		o.err = json.Unmarshal(raw, &e)
		o.code = e.Code
	}
	return o
}

// TestRemoveMastersRace has the only two masters delete each other at the same moment,
// a few times over: exactly one may win, and a master must remain.
func TestRemoveMastersRace(t *testing.T) {
	t.Parallel()
	st := stacktest.Start(t)
	admin := usertest.BootstrapAdmin(t, st)
	a := usertest.NewAccountBy(t, st, auth.RoleMaster, nil, admin.Token)
	if res := remove(t, st, admin.ID, a.Token); res.Status != http.StatusOK {
		t.Fatalf("delete the bootstrap master: status %d: %s", res.Status, res.Body)
	}
	for round := range 3 {
		b := usertest.NewAccountBy(t, st, auth.RoleMaster, nil, a.Token)
		if got := usertest.LiveMasters(t, st); len(got) != 2 {
			t.Fatalf("round %d: %d masters before the race, want 2", round, len(got))
		}
		start := make(chan struct{})
		var wg sync.WaitGroup
		var byA, byB outcome
		wg.Go(func() { byA = deleteAt(st, start, b.ID, a.Token) })
		wg.Go(func() { byB = deleteAt(st, start, a.ID, b.Token) })
		close(start)
		wg.Wait()
		if byA.err != nil || byB.err != nil {
			t.Fatalf("round %d: %v / %v", round, byA.err, byB.err)
		}
		lost := func(o outcome) bool {
			return (o.status == 409 && o.code == "U029") || (o.status == 401 && o.code == "C002")
		}
		var winner usertest.Account
		switch {
		case byA.status == 200 && lost(byB):
			winner = a
		case byB.status == 200 && lost(byA):
			winner = b
		default:
			t.Fatalf("round %d: A deleting B got %+v, B deleting A got %+v; want exactly one 200 and one 409 U029 or 401", round, byA, byB)
		}
		if got := usertest.LiveMasters(t, st); !slices.Equal(got, []uuid.UUID{winner.ID}) {
			t.Fatalf("round %d: live masters %v, want only the winner %s", round, got, winner.ID)
		}
		a = winner
	}
}
