package users_test

import (
	"context"
	"encoding/json"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/fault"
	"github.com/8949market/market/shared/testenv"
	"github.com/8949market/market/shared/testfactory"
	"github.com/8949market/market/shared/users"
)

// testBundle is one test's accounts world: its own database, a store on it and a
// denylist on the shared Redis (revocations are keyed by user ids of its own).
type testBundle struct {
	db    *pgxpool.Pool
	store *users.Store
	deny  *auth.Denylist
}

func setup(t *testing.T) *testBundle {
	t.Helper()
	db := testenv.DB(t)
	return &testBundle{db: db, store: users.NewStore(db, accessTTL), deny: auth.NewDurableDenylist(testenv.Redis(t), db)}
}

// account stores a user with role.
func (b *testBundle) account(t *testing.T, role auth.Role) users.User {
	t.Helper()
	return testfactory.User(context.Background(), t, b.db, &testfactory.UserOpts{Role: role})
}

// who is the verified caller u, as its token at version 0 says.
func who(u users.User) auth.Identity {
	return auth.Identity{UserID: u.ID, Username: u.Username, Role: u.Role}
}

// signedOut reports whether u's tokens of version 0 are refused.
func (b *testBundle) signedOut(t *testing.T, u users.User) bool {
	t.Helper()
	denied, err := b.deny.Denied(context.Background(), auth.NewTokenID(), u.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	return denied
}

// rowOf is everything stored about a user, to tell whether a refused change changed it.
func (b *testBundle) rowOf(t *testing.T, id uuid.UUID) string {
	t.Helper()
	var s string
	err := b.db.QueryRow(context.Background(), `
		SELECT format('%s|%s|%s|%s|%s|%s|%s|%s|%s|%s', u.username, u.password_hash, u.role, u.name, u.nickname,
		       u.token_version, u.modified_at, u.modified_by, u.deleted_at,
		       (SELECT string_agg(format('%s %s-%s', day_of_week, start_time, end_time), ',' ORDER BY day_of_week, start_time)
		          FROM users.chat_time_ranges WHERE user_id = u.id))
		  FROM users.users u WHERE u.id = $1`, id).Scan(&s)
	if err != nil {
		t.Fatalf("read user %s: %v", id, err)
	}
	return s
}

// unchanged reports, when the test ends, each of ids whose row changed since now.
func (b *testBundle) unchanged(t *testing.T, what string, ids ...uuid.UUID) {
	t.Helper()
	before := make(map[uuid.UUID]string, len(ids))
	for _, id := range ids {
		before[id] = b.rowOf(t, id)
	}
	t.Cleanup(func() {
		for _, id := range ids {
			if after := b.rowOf(t, id); after != before[id] {
				t.Errorf("%s changed %s:\nbefore %s\nafter  %s", what, id, before[id], after)
			}
		}
	})
}

func (b *testBundle) liveMasters(t *testing.T) []uuid.UUID {
	t.Helper()
	rows, err := b.db.Query(context.Background(),
		`SELECT id FROM users.users WHERE role = 'MASTER' AND deleted_at IS NULL ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []uuid.UUID
	for rows.Next() {
		var id uuid.UUID
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		out = append(out, id)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// wantRefusal fails the test unless err is a fault of kind with code.
func wantRefusal(t *testing.T, what string, err error, kind fault.Kind, code string) {
	t.Helper()
	f, ok := fault.As(err)
	if !ok || f.Kind != kind || f.Code != code {
		t.Fatalf("%s: %v, want kind %d %s", what, err, kind, code)
	}
}

// Only a MASTER changes or deletes another administrator: a MANAGER renaming or deleting
// a MANAGER would take MANAGER away by another name (issue 15). A MANAGER still manages
// ordinary users and their own account as before. Every case is its own database.
func TestOnlyMasterManagesAdministrators(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	type caller int
	const (
		aManager caller = iota
		aMaster
		self
	)
	name, nickname, manager, user, master := ptr("Renamed"), ptr("Renamed7"), ptr("MANAGER"), ptr("USER"), ptr("MASTER")
	tests := []struct {
		name   string
		caller caller
		target auth.Role
		remove bool
		change users.AdminUpdate
		code   string // "" when allowed; refusals are 403
	}{
		{"a manager renames another manager", aManager, auth.RoleManager, false, users.AdminUpdate{Name: name}, "U030"},
		{"a manager changes another manager's nickname", aManager, auth.RoleManager, false, users.AdminUpdate{Nickname: nickname}, "U030"},
		{"a manager restates another manager's role", aManager, auth.RoleManager, false, users.AdminUpdate{UserRole: manager}, "U030"},
		{"a manager demotes another manager", aManager, auth.RoleManager, false, users.AdminUpdate{UserRole: user}, "U030"},
		{"a manager deletes another manager", aManager, auth.RoleManager, true, users.AdminUpdate{}, "U030"},
		{"a manager renames a master", aManager, auth.RoleMaster, false, users.AdminUpdate{Name: name}, "U030"},
		{"a manager deletes a master", aManager, auth.RoleMaster, true, users.AdminUpdate{}, "U030"},
		{"a manager renames a user", aManager, auth.RoleUser, false, users.AdminUpdate{Name: name}, ""},
		{"a manager deletes a user", aManager, auth.RoleUser, true, users.AdminUpdate{}, ""},
		{"a manager renames themself", self, auth.RoleManager, false, users.AdminUpdate{Name: name}, ""},
		{"a manager deletes themself", self, auth.RoleManager, true, users.AdminUpdate{}, ""},
		{"a manager promotes themself", self, auth.RoleManager, false, users.AdminUpdate{UserRole: master}, "U016"},
		{"a master renames a manager", aMaster, auth.RoleManager, false, users.AdminUpdate{Name: name}, ""},
		{"a master deletes a manager", aMaster, auth.RoleManager, true, users.AdminUpdate{}, ""},
		{"a master renames another master", aMaster, auth.RoleMaster, false, users.AdminUpdate{Nickname: nickname}, ""},
		{"a master deletes another master", aMaster, auth.RoleMaster, true, users.AdminUpdate{}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			target := b.account(t, tt.target)
			by := who(target)
			switch tt.caller {
			case aManager:
				by = who(b.account(t, auth.RoleManager))
			case aMaster:
				by = who(b.account(t, auth.RoleMaster))
			}
			if tt.code != "" {
				b.unchanged(t, "a refused change", target.ID)
			}
			var id uuid.UUID
			var err error
			if tt.remove {
				var d users.Deleted
				d, err = users.Remove(ctx, b.store, b.deny, by, target.ID, time.Now())
				id = d.UserID
			} else {
				var m users.Modified
				m, err = users.Update(ctx, b.store, b.deny, by, target.ID, tt.change, time.Now())
				id = m.UserID
			}
			if tt.code != "" {
				wantRefusal(t, tt.name, err, fault.Forbidden, tt.code)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if id != target.ID {
				t.Errorf("answer names %s, want %s", id, target.ID)
			}
		})
	}
}

// TestUpdateLastMaster starts with one MASTER, as a fresh deployment does.
func TestUpdateLastMaster(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	admin := b.account(t, auth.RoleMaster)
	before := b.rowOf(t, admin.ID)
	update := func(by users.User, id uuid.UUID, c users.AdminUpdate) error {
		_, err := users.Update(ctx, b.store, b.deny, who(by), id, c, time.Now())
		return err
	}

	for _, role := range []string{"MANAGER", "USER"} {
		wantRefusal(t, "demote the only master to "+role, update(admin, admin.ID, users.AdminUpdate{UserRole: ptr(role)}), fault.Conflict, "U029")
	}
	if after := b.rowOf(t, admin.ID); after != before {
		t.Errorf("a refused demotion changed the row:\nbefore %s\nafter  %s", before, after)
	}
	if d, err := users.Read(ctx, b.store, who(admin), admin.ID); err != nil || d.UserRole != auth.RoleMaster || b.signedOut(t, admin) {
		t.Errorf("role %s (%v), signed out %v", d.UserRole, err, b.signedOut(t, admin))
	}
	// Changes other than the role are fine for the last master.
	if err := update(admin, admin.ID, users.AdminUpdate{Name: ptr("Boss")}); err != nil {
		t.Errorf("rename the only master: %v", err)
	}

	second := b.account(t, auth.RoleMaster)
	if err := update(admin, admin.ID, users.AdminUpdate{UserRole: ptr("MANAGER")}); err != nil {
		t.Fatalf("demote with a second master present: %v", err)
	}
	if u, err := b.store.Get(ctx, admin.ID); err != nil || u.Role != auth.RoleManager || u.Name != "Boss" {
		t.Errorf("row %+v, %v", u, err)
	}
	if !b.signedOut(t, admin) {
		t.Error("the demoted master's token is still accepted")
	}
	// Now the second is the last one.
	wantRefusal(t, "demote the new only master", update(second, second.ID, users.AdminUpdate{UserRole: ptr("USER")}), fault.Conflict, "U029")
	if masters := b.liveMasters(t); len(masters) != 1 {
		t.Errorf("%d masters, want 1", len(masters))
	}
}

// TestRemoveRules starts with one MASTER.
func TestRemoveRules(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	master := b.account(t, auth.RoleMaster)
	manager := b.account(t, auth.RoleManager)

	t.Run("a manager deletes a user", func(t *testing.T) {
		u := b.account(t, auth.RoleUser)
		d, err := users.Remove(ctx, b.store, b.deny, who(manager), u.ID, time.Now())
		if err != nil || d.UserID != u.ID || d.DeletedBy != manager.ID {
			t.Errorf("answer %+v, %v", d, err)
		}
		if n := count(t, b.db, `SELECT count(*) FROM users.chat_time_ranges WHERE user_id = $1`, u.ID); n != 0 {
			t.Errorf("%d range rows left", n)
		}
		if !b.signedOut(t, u) {
			t.Error("the deleted user's token is still accepted")
		}
	})

	t.Run("a master deletes a manager", func(t *testing.T) {
		m := b.account(t, auth.RoleManager)
		if _, err := users.Remove(ctx, b.store, b.deny, who(master), m.ID, time.Now()); err != nil {
			t.Error(err)
		}
	})

	t.Run("refusals", func(t *testing.T) {
		alice, bob := b.account(t, auth.RoleUser), b.account(t, auth.RoleUser)
		gone := b.account(t, auth.RoleUser)
		if _, err := users.Remove(ctx, b.store, b.deny, who(gone), gone.ID, time.Now()); err != nil {
			t.Fatal(err)
		}
		ghostMaster := auth.Identity{UserID: uuid.New(), Role: auth.RoleMaster}
		// Cleanups run last first: the rows are compared, then the last master's token tried.
		t.Cleanup(func() {
			if b.signedOut(t, master) {
				t.Error("the last master's token refused after refusals")
			}
		})
		b.unchanged(t, "a refused delete", master.ID, manager.ID, alice.ID, bob.ID)
		tests := []struct {
			name   string
			caller auth.Identity
			id     uuid.UUID
			kind   fault.Kind
			code   string
		}{
			{"a manager deletes a master", who(manager), master.ID, fault.Forbidden, "U030"},
			{"a user deletes another user", who(alice), bob.ID, fault.Forbidden, "U024"},
			{"a user deletes a manager", who(alice), manager.ID, fault.Forbidden, "U024"},
			{"a user deletes a master", who(alice), master.ID, fault.Forbidden, "U024"},
			{"a user deletes an unknown id", who(alice), uuid.New(), fault.Forbidden, "U024"},
			{"a manager deletes an unknown id", who(manager), uuid.New(), fault.NotFound, "U017"},
			{"a manager deletes a deleted user", who(manager), gone.ID, fault.NotFound, "U017"},
			{"the last master deletes themself", who(master), master.ID, fault.Conflict, "U029"},
			{"another master deletes the last one", ghostMaster, master.ID, fault.Conflict, "U029"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				_, err := users.Remove(ctx, b.store, b.deny, tt.caller, tt.id, time.Now())
				wantRefusal(t, tt.name, err, tt.kind, tt.code)
			})
		}
	})
}

// TestRemoveMastersRace has the only two masters delete each other at the same moment,
// a few times over: exactly one may win, and a master must remain.
func TestRemoveMastersRace(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	a := b.account(t, auth.RoleMaster)
	for round := range 3 {
		other := b.account(t, auth.RoleMaster)
		if got := b.liveMasters(t); len(got) != 2 {
			t.Fatalf("round %d: %d masters before the race, want 2", round, len(got))
		}
		start := make(chan struct{})
		var wg sync.WaitGroup
		var byA, byOther error
		wg.Go(func() { <-start; _, byA = users.Remove(ctx, b.store, b.deny, who(a), other.ID, time.Now()) })
		wg.Go(func() { <-start; _, byOther = users.Remove(ctx, b.store, b.deny, who(other), a.ID, time.Now()) })
		close(start)
		wg.Wait()
		lost := func(err error) bool {
			f, ok := fault.As(err)
			return ok && ((f.Kind == fault.Conflict && f.Code == "U029") || (f.Kind == fault.Unauthenticated && f.Code == "C002"))
		}
		var winner users.User
		switch {
		case byA == nil && lost(byOther):
			winner = a
		case byOther == nil && lost(byA):
			winner = other
		default:
			t.Fatalf("round %d: A deleting the other got %v, the other deleting A got %v; want exactly one success and one U029", round, byA, byOther)
		}
		if got := b.liveMasters(t); !slices.Equal(got, []uuid.UUID{winner.ID}) {
			t.Fatalf("round %d: live masters %v, want only the winner %s", round, got, winner.ID)
		}
		a = winner
	}
}

// TestUpdateMeRefusals is every change a user may not make to their own account; none
// changes the row. What a body may hold at all (fields, types) is the route's.
func TestUpdateMeRefusals(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	u := testfactory.User(ctx, t, b.db, &testfactory.UserOpts{ChatTimeRanges: []users.ChatTimeRange{
		{Day: time.Monday, Start: clock(9, 0, 0), End: clock(12, 0, 0)},
		{Day: time.Friday, Start: clock(18, 0, 0), End: clock(20, 0, 0)},
	}})
	b.unchanged(t, "a refused update", u.ID)
	rng := func(day, start, end string) map[string]any {
		r := map[string]any{}
		for k, v := range map[string]string{"dayOfWeek": day, "startTime": start, "endTime": end} {
			if v != "-" {
				r[k] = v
			}
		}
		return r
	}
	ranges := func(rs ...map[string]any) map[string]any { return map[string]any{"chatTimeRanges": rs} }
	many := make([]map[string]any, 51)
	for i := range many {
		many[i] = rng("TUESDAY", time.Time{}.Add(time.Duration(i)*10*time.Minute).Format("15:04"),
			time.Time{}.Add(time.Duration(i)*10*time.Minute+5*time.Minute).Format("15:04"))
	}
	tests := []struct {
		name  string
		body  map[string]any
		kind  fault.Kind
		code  string
		field string
	}{
		{"empty body", map[string]any{}, fault.Invalid, "C001", ""},
		{"name with a digit", map[string]any{"name": "Bad1"}, fault.Invalid, "U008", "name"},
		{"name with a space", map[string]any{"name": "Kim Cheol"}, fault.Invalid, "U008", "name"},
		{"name of 21 letters", map[string]any{"name": strings.Repeat("a", 21)}, fault.Invalid, "U008", "name"},
		{"blank name", map[string]any{"name": "  "}, fault.Invalid, "U007", "name"},
		{"nickname with a space", map[string]any{"nickname": "bad nick"}, fault.Invalid, "U010", "nickname"},
		{"nickname with a symbol", map[string]any{"nickname": "nick!"}, fault.Invalid, "U010", "nickname"},
		{"nickname of 21", map[string]any{"nickname": strings.Repeat("n", 21)}, fault.Invalid, "U010", "nickname"},
		{"short password", map[string]any{"password": "Ab1!xyz"}, fault.Invalid, "U004", "password"},
		{"password of 21", map[string]any{"password": strings.Repeat("a", 21)}, fault.Invalid, "U004", "password"},
		{"password with a space", map[string]any{"password": "Secret 12345"}, fault.Invalid, "U004", "password"},
		{"password in Hangul", map[string]any{"password": "비밀번호비밀번호"}, fault.Invalid, "U004", "password"},
		{"valid name, bad nickname", map[string]any{"name": "Fine", "nickname": "bad nick"}, fault.Invalid, "U010", "nickname"},
		{"valid nickname, bad password", map[string]any{"nickname": "Fine2", "password": "short"}, fault.Invalid, "U004", "password"},
		{"empty range list", map[string]any{"chatTimeRanges": []any{}}, fault.Invalid, "U011", "chatTimeRanges"},
		{"range without day", ranges(rng("-", "09:00", "10:00")), fault.Invalid, "U012", "chatTimeRanges[0].dayOfWeek"},
		{"range with blank day", ranges(rng(" ", "09:00", "10:00")), fault.Invalid, "U012", "chatTimeRanges[0].dayOfWeek"},
		{"second range without start", ranges(rng("MONDAY", "09:00", "10:00"), rng("MONDAY", "-", "12:00")), fault.Invalid, "U013", "chatTimeRanges[1].startTime"},
		{"range without end", ranges(rng("MONDAY", "09:00", "-")), fault.Invalid, "U014", "chatTimeRanges[0].endTime"},
		{"start after end", ranges(rng("MONDAY", "11:00", "10:00")), fault.Invalid, "U025", "chatTimeRanges[0].endTime"},
		{"start equals end", ranges(rng("MONDAY", "10:00", "10:00:00")), fault.Invalid, "U025", "chatTimeRanges[0].endTime"},
		{"overlap", ranges(rng("MONDAY", "09:00", "10:30"), rng("MONDAY", "10:00", "11:00")), fault.Conflict, "U026", "chatTimeRanges"},
		{"overlap by one second", ranges(rng("MONDAY", "10:00", "11:00"), rng("MONDAY", "09:00", "10:00:01")), fault.Conflict, "U026", "chatTimeRanges"},
		{"contained range", ranges(rng("MONDAY", "09:00", "18:00"), rng("MONDAY", "10:00", "11:00")), fault.Conflict, "U026", "chatTimeRanges"},
		{"same range twice", ranges(rng("SUNDAY", "09:00", "10:00"), rng("SUNDAY", "09:00", "10:00")), fault.Conflict, "U026", "chatTimeRanges"},
		{"unknown day", ranges(rng("FUNDAY", "09:00", "10:00")), fault.Invalid, "C001", "chatTimeRanges[0].dayOfWeek"},
		{"hour 25", ranges(rng("MONDAY", "09:00", "25:00")), fault.Invalid, "C001", "chatTimeRanges[0].endTime"},
		{"one-digit hour", ranges(rng("MONDAY", "9:00", "10:00")), fault.Invalid, "C001", "chatTimeRanges[0].startTime"},
		{"51 ranges", map[string]any{"chatTimeRanges": many}, fault.Invalid, "C001", "chatTimeRanges"},
	}
	pw := newPasswords(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			raw, err := json.Marshal(tt.body)
			if err != nil {
				t.Fatal(err)
			}
			var c users.SelfUpdate
			if err := json.Unmarshal(raw, &c); err != nil {
				t.Fatal(err)
			}
			_, err = users.UpdateMe(ctx, b.store, b.deny, pw, who(u), c, time.Now())
			f := wantFault(t, err, tt.code, tt.field)
			if f.Kind != tt.kind {
				t.Errorf("kind %d, want %d", f.Kind, tt.kind)
			}
		})
	}
}

// TestList is the administrators' search as users.List reads it from the query: filters
// in any case with % and _ taken literally, roles in every spelling, deleted accounts
// never listed, and nobody else may list.
func TestList(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	admin := b.account(t, auth.RoleMaster)
	mk := func(username, name, nickname string, role auth.Role) users.User {
		return testfactory.User(ctx, t, b.db, &testfactory.UserOpts{Username: username, Name: name, Nickname: nickname, Role: role})
	}
	mk("kimchiuser", "Kimchi", "alphaNick", auth.RoleUser)
	mk("betauser02", "Alphonse", "bravo", auth.RoleUser)
	manager := mk("gammauser3", "Gamma", "ALPHAbet", auth.RoleManager)
	mk("pctuser100", "Percent", "pct50x", auth.RoleUser)
	mk("alphuser01", "Zed", "zed", auth.RoleUser)
	dead := mk("alphadead1", "Alpha", "deadone", auth.RoleUser)
	if _, err := users.Remove(ctx, b.store, b.deny, who(admin), dead.ID, time.Now()); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name  string
		query url.Values
		want  []string
	}{
		{"no filter lists every live account", url.Values{}, []string{"alphuser01", "betauser02", "gammauser3", "kimchiuser", "pctuser100", admin.Username}},
		{"keyword matches username, name or nickname in any case", url.Values{"keyword": {"ALPH"}}, []string{"alphuser01", "betauser02", "gammauser3", "kimchiuser"}},
		{"username", url.Values{"username": {"ALPH"}}, []string{"alphuser01"}},
		{"name", url.Values{"name": {"alph"}}, []string{"betauser02"}},
		{"nickname", url.Values{"nickname": {"alph"}}, []string{"gammauser3", "kimchiuser"}},
		{"nickname and name", url.Values{"nickname": {"ALPHA"}, "name": {"gam"}}, []string{"gammauser3"}},
		{"keyword and role", url.Values{"keyword": {"alph"}, "userRole": {"MANAGER"}}, []string{"gammauser3"}},
		{"role", url.Values{"userRole": {"MANAGER"}}, []string{"gammauser3"}},
		{"role with prefix, lower case", url.Values{"userRole": {"ROLE_manager"}}, []string{"gammauser3"}},
		{"role in Korean", url.Values{"userRole": {"관리자"}}, []string{"gammauser3"}},
		{"master in Korean", url.Values{"userRole": {"총관리자"}}, []string{admin.Username}},
		{"master", url.Values{"userRole": {"master"}}, []string{admin.Username}},
		{"user with a keyword", url.Values{"userRole": {"USER"}, "keyword": {"alph"}}, []string{"alphuser01", "betauser02", "kimchiuser"}},
		{"user in Korean", url.Values{"userRole": {"일반 사용자"}, "keyword": {"alph"}}, []string{"alphuser01", "betauser02", "kimchiuser"}},
		{"a plain part", url.Values{"nickname": {"pct50"}}, []string{"pctuser100"}},
		{"percent is literal", url.Values{"keyword": {"%"}}, nil},
		{"underscore is literal", url.Values{"keyword": {"_"}}, nil},
		{"underscore inside a word is literal", url.Values{"keyword": {"alph_"}}, nil},
		{"percent inside a word is literal", url.Values{"nickname": {"al%a"}}, nil},
		{"percent in a username filter", url.Values{"username": {"pct%"}}, nil},
		{"deleted accounts are not listed", url.Values{"keyword": {"dead"}}, nil},
		{"deleted account's name", url.Values{"name": {"alpha"}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			// Both administrator roles may list.
			for _, caller := range []users.User{admin, manager} {
				p, err := users.List(ctx, b.store, who(caller), tt.query)
				if err != nil {
					t.Fatal(err)
				}
				var got []string
				for _, s := range p.Content {
					got = append(got, s.Username)
				}
				slices.Sort(got)
				want := slices.Clone(tt.want)
				slices.Sort(want)
				if !slices.Equal(got, want) {
					t.Errorf("got %v, want %v", got, want)
				}
				if p.HasNext || p.NextCursor != "" || p.Size != 20 {
					t.Errorf("page hasNext %v cursor %q size %d", p.HasNext, p.NextCursor, p.Size)
				}
			}
		})
	}

	t.Run("an unknown role", func(t *testing.T) {
		t.Parallel()
		_, err := users.List(ctx, b.store, who(admin), url.Values{"userRole": {"BOSS"}})
		wantFault(t, err, "U006", "userRole")
	})
	t.Run("a user may not list", func(t *testing.T) {
		t.Parallel()
		_, err := users.List(ctx, b.store, auth.Identity{UserID: uuid.New(), Role: auth.RoleUser}, url.Values{"userRole": {"MASTER"}})
		wantRefusal(t, "a user", err, fault.Forbidden, "U015")
	})
}
