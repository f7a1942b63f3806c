package users_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/fault"
	"github.com/8949market/market/shared/users"
)

type rangeRow struct {
	day        int
	start, end string
}

// rangeRows reads a user's stored ranges as the database holds them.
func rangeRows(t *testing.T, db *pgxpool.Pool, id uuid.UUID) []rangeRow {
	t.Helper()
	rows, err := db.Query(context.Background(), `
		SELECT day_of_week, start_time::text, end_time::text FROM users.chat_time_ranges
		 WHERE user_id = $1 ORDER BY day_of_week, start_time`, id)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []rangeRow
	for rows.Next() {
		var r rangeRow
		if err := rows.Scan(&r.day, &r.start, &r.end); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func count(t *testing.T, db *pgxpool.Pool, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := db.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// sameUser compares what the store keeps of a user.
func sameUser(t *testing.T, got, want users.User) {
	t.Helper()
	if got.ID != want.ID || got.Username != want.Username || got.PasswordHash != want.PasswordHash ||
		got.Role != want.Role || got.Name != want.Name || got.Nickname != want.Nickname ||
		got.TokenVersion != want.TokenVersion || got.CreatedBy != want.CreatedBy || got.ModifiedBy != want.ModifiedBy {
		t.Errorf("user = %+v\nwant %+v", got, want)
	}
	if !got.CreatedAt.Equal(want.CreatedAt) || !got.ModifiedAt.Equal(want.ModifiedAt) {
		t.Errorf("createdAt %v modifiedAt %v, want %v and %v (what was saved must read back unchanged)",
			got.CreatedAt, got.ModifiedAt, want.CreatedAt, want.ModifiedAt)
	}
	if !equalRanges(got.ChatTimeRanges, want.ChatTimeRanges) {
		t.Errorf("ranges = %v, want %v", got.ChatTimeRanges, want.ChatTimeRanges)
	}
}

func TestStoreCreateGetRoundTrip(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, db := newStore(t)
	pw := newPasswords(t)
	master := caller(auth.RoleMaster)
	u, err := users.New(signup(func(s *users.Signup) {
		s.UserRole = ptr("MANAGER")
		s.ChatTimeRanges = &[]users.RangeInput{
			rng("SUNDAY", "22:30:15", "23:59:59"),
			rng("MONDAY", "00:00", "00:00:01"),
			rng("THURSDAY", "12:00", "13:30"),
		}
	}), &master, pw, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Create(ctx, u); err != nil {
		t.Fatal(err)
	}
	got, err := st.Get(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	sameUser(t, got, u)
	if got.CreatedBy != master.UserID || got.DeletedAt != nil || got.DeletedBy != nil || got.TokensRevoked() {
		t.Errorf("read back %+v", got)
	}
	// Days are stored as ISO 8601 numbers (Sunday 7), times to the second.
	want := []rangeRow{{1, "00:00:00", "00:00:01"}, {4, "12:00:00", "13:30:00"}, {7, "22:30:15", "23:59:59"}}
	if rows := rangeRows(t, db, u.ID); len(rows) != len(want) || rows[0] != want[0] || rows[1] != want[1] || rows[2] != want[2] {
		t.Errorf("stored ranges = %v, want %v", rows, want)
	}
}

func TestStoreCreateDuplicateUsername(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, db := newStore(t)
	first := mustCreate(t, st, account("alice1234", auth.RoleUser))
	monday := users.ChatTimeRange{Day: time.Monday, Start: clock(9, 0, 0), End: clock(10, 0, 0)}
	for _, name := range []string{"alice1234", "ALICE1234", "Alice1234"} {
		dup := account(name, auth.RoleUser, monday)
		err := st.Create(ctx, dup)
		wantFault(t, err, "U018", "username")
		if !errors.Is(err, users.ErrDuplicate) {
			t.Errorf("Create(%s) = %v, want ErrDuplicate", name, err)
		}
		if n := count(t, db, `SELECT count(*) FROM users.chat_time_ranges WHERE user_id = $1`, dup.ID); n != 0 {
			t.Errorf("Create(%s) left %d ranges", name, n)
		}
	}
	if n := count(t, db, `SELECT count(*) FROM users.users`); n != 1 {
		t.Errorf("%d users, want only the first", n)
	}
	if got, err := st.ByUsername(ctx, "alice1234"); err != nil || got.ID != first.ID {
		t.Errorf("ByUsername = %v, %v; want the first account", got.ID, err)
	}
}

func TestStoreUpdateFailureWritesNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, db := newStore(t)
	pw := newPasswords(t)
	monday := users.ChatTimeRange{Day: time.Monday, Start: clock(9, 0, 0), End: clock(10, 0, 0)}
	orig := account("alice1234", auth.RoleUser, monday)
	orig.TokenVersion = 4
	mustCreate(t, st, orig)
	boom := errors.New("boom")

	tests := []struct {
		name   string
		change func(u *users.User) error
		check  func(t *testing.T, err error)
	}{
		{"change returns an error", func(u *users.User) error {
			u.Name, u.Nickname, u.Role, u.TokenVersion = "Changed", "changed", auth.RoleMaster, 99
			u.ChatTimeRanges = nil
			return boom
		}, func(t *testing.T, err error) {
			if !errors.Is(err, boom) {
				t.Errorf("Update = %v, want the change's error", err)
			}
		}},
		// UpdateSelf hashes the new password and raises the version before it finds the
		// bad range: the half-made change must not be saved.
		{"rule fails after mutating", func(u *users.User) error {
			return u.UpdateSelf(users.SelfUpdate{
				Name: ptr("Changed"), Password: ptr("N3wPassword!"),
				ChatTimeRanges: &[]users.RangeInput{rng("MONDAY", "10:00", "09:00")},
			}, pw, time.Now())
		}, func(t *testing.T, err error) { wantFault(t, err, "U025", "chatTimeRanges[0].endTime") }},
		// The row is written before the ranges; a range the database refuses rolls it back.
		{"ranges refused by the database", func(u *users.User) error {
			u.Name = "Changed"
			u.ChatTimeRanges = []users.ChatTimeRange{{Day: time.Friday, Start: clock(10, 0, 0), End: clock(9, 0, 0)}}
			return nil
		}, func(t *testing.T, err error) {
			if err == nil {
				t.Error("Update with an invalid range succeeded")
			}
		}},
	}
	for _, tt := range tests {
		// Sequential: each case checks the same row is still the original.
		_, err := st.Update(ctx, orig.ID, tt.change)
		t.Run(tt.name, func(t *testing.T) {
			tt.check(t, err)
			got, err := st.Get(ctx, orig.ID)
			if err != nil {
				t.Fatal(err)
			}
			sameUser(t, got, orig)
			if rows := rangeRows(t, db, orig.ID); len(rows) != 1 || rows[0] != (rangeRow{1, "09:00:00", "10:00:00"}) {
				t.Errorf("stored ranges = %v", rows)
			}
		})
	}
}

func TestStoreUpdateReplacesRanges(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, db := newStore(t)
	pw := newPasswords(t)
	orig := mustCreate(t, st, account("alice1234", auth.RoleUser,
		users.ChatTimeRange{Day: time.Monday, Start: clock(9, 0, 0), End: clock(10, 0, 0)},
		users.ChatTimeRange{Day: time.Tuesday, Start: clock(9, 0, 0), End: clock(10, 0, 0)}))

	updated, err := st.Update(ctx, orig.ID, func(u *users.User) error {
		return u.UpdateSelf(users.SelfUpdate{Nickname: ptr("newnick"), ChatTimeRanges: &[]users.RangeInput{
			rng("SATURDAY", "18:00", "20:00:30"), rng("MONDAY", "09:00", "09:30"), rng("MONDAY", "09:30", "10:00"),
		}}, pw, time.Now())
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []users.ChatTimeRange{
		{Day: time.Monday, Start: clock(9, 0, 0), End: clock(9, 30, 0)},
		{Day: time.Monday, Start: clock(9, 30, 0), End: clock(10, 0, 0)},
		{Day: time.Saturday, Start: clock(18, 0, 0), End: clock(20, 0, 30)},
	}
	if !equalRanges(updated.ChatTimeRanges, want) || updated.Nickname != "newnick" || updated.TokenVersion != orig.TokenVersion {
		t.Errorf("Update returned %+v", updated)
	}
	got, err := st.Get(ctx, orig.ID)
	if err != nil {
		t.Fatal(err)
	}
	sameUser(t, got, updated)
	if rows := rangeRows(t, db, orig.ID); len(rows) != 3 || rows[2] != (rangeRow{6, "18:00:00", "20:00:30"}) {
		t.Errorf("stored ranges = %v", rows)
	}
	if !got.CreatedAt.Equal(orig.CreatedAt) || got.ModifiedAt.Before(orig.ModifiedAt) {
		t.Errorf("createdAt %v modifiedAt %v after update of %v", got.CreatedAt, got.ModifiedAt, orig.CreatedAt)
	}
}

func TestStoreDeletedUser(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, db := newStore(t)
	u := mustCreate(t, st, account("alice1234", auth.RoleUser,
		users.ChatTimeRange{Day: time.Monday, Start: clock(9, 0, 0), End: clock(10, 0, 0)}))
	admin := caller(auth.RoleManager)

	deleted, err := st.Update(ctx, u.ID, func(x *users.User) error { return x.Delete(admin, time.Now()) })
	if err != nil {
		t.Fatal(err)
	}
	if deleted.DeletedAt == nil || deleted.DeletedBy == nil || *deleted.DeletedBy != admin.UserID || !deleted.TokensRevoked() {
		t.Fatalf("Update(Delete) returned %+v", deleted)
	}

	// The row stays for audit, with its deletion recorded; its ranges are gone.
	var by uuid.UUID
	var at time.Time
	var version int64
	if err := db.QueryRow(ctx, `SELECT deleted_at, deleted_by, token_version FROM users.users WHERE id = $1 AND deleted_at IS NOT NULL`, u.ID).Scan(&at, &by, &version); err != nil {
		t.Fatalf("deleted row: %v", err)
	}
	if by != admin.UserID || version != u.TokenVersion+1 {
		t.Errorf("deleted_by %s token_version %d, want %s %d", by, version, admin.UserID, u.TokenVersion+1)
	}
	// The deletion time answered to the caller is the one stored.
	if !at.Equal(*deleted.DeletedAt) {
		t.Errorf("stored deleted_at %v, Update returned %v", at, *deleted.DeletedAt)
	}
	if rows := rangeRows(t, db, u.ID); len(rows) != 0 {
		t.Errorf("deleted user keeps ranges %v", rows)
	}

	notFound := func(what string, err error) {
		t.Helper()
		if !errors.Is(err, users.ErrNotFound) {
			t.Errorf("%s = %v, want ErrNotFound", what, err)
		} else {
			wantFault(t, err, "U017", "")
		}
	}
	_, err = st.Get(ctx, u.ID)
	notFound("Get", err)
	_, err = st.ByUsername(ctx, "alice1234")
	notFound("ByUsername", err)
	_, err = st.ChatRanges(ctx, u.ID, time.Monday, nil)
	notFound("ChatRanges", err)
	called := false
	_, err = st.Update(ctx, u.ID, func(*users.User) error { called = true; return nil })
	notFound("Update", err)
	if called {
		t.Error("Update ran the change on a deleted user")
	}
	_, err = st.Get(ctx, uuid.New())
	notFound("Get(unknown)", err)
	_, err = st.Update(ctx, uuid.New(), func(*users.User) error { return nil })
	notFound("Update(unknown)", err)

	// The username is free again, in any case.
	again := mustCreate(t, st, account("ALICE1234", auth.RoleUser))
	if got, err := st.ByUsername(ctx, "alice1234"); err != nil || got.ID != again.ID {
		t.Errorf("ByUsername after re-signup = %v, %v; want %s", got.ID, err, again.ID)
	}
	if n := count(t, db, `SELECT count(*) FROM users.users WHERE lower(username) = 'alice1234'`); n != 2 {
		t.Errorf("%d rows for the username, want the deleted and the new one", n)
	}
}

func TestStoreByUsername(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, _ := newStore(t)
	u := mustCreate(t, st, account("Alice1234", auth.RoleManager,
		users.ChatTimeRange{Day: time.Monday, Start: clock(9, 0, 0), End: clock(10, 0, 0)}))
	mustCreate(t, st, account("bob123456", auth.RoleUser))
	for _, name := range []string{"Alice1234", "alice1234", "ALICE1234", "aLiCe1234"} {
		got, err := st.ByUsername(ctx, name)
		if err != nil || got.ID != u.ID || got.Username != "Alice1234" || got.Role != auth.RoleManager || got.PasswordHash != u.PasswordHash {
			t.Errorf("ByUsername(%s) = %+v, %v", name, got, err)
		}
	}
	for _, name := range []string{"alice123", "alice12345", "alice%", "alice123_", "", " alice1234"} {
		if _, err := st.ByUsername(ctx, name); !errors.Is(err, users.ErrNotFound) {
			t.Errorf("ByUsername(%q) = %v, want ErrNotFound", name, err)
		}
	}
}

// demote is the change a MASTER makes to turn an account into a MANAGER.
func demote(by uuid.UUID) func(u *users.User) error {
	return func(u *users.User) error {
		return u.UpdateByAdmin(users.AdminUpdate{UserRole: ptr("MANAGER")}, auth.Identity{UserID: by, Role: auth.RoleMaster}, time.Now())
	}
}

func remove(by uuid.UUID) func(u *users.User) error {
	return func(u *users.User) error {
		return u.Delete(auth.Identity{UserID: by, Role: auth.RoleMaster}, time.Now())
	}
}

func wantLastMaster(t *testing.T, err error) {
	t.Helper()
	if !errors.Is(err, users.ErrLastMaster) {
		t.Fatalf("err = %v, want ErrLastMaster", err)
	}
	wantFault(t, err, "U029", "")
}

func TestStoreLastMaster(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, db := newStore(t)
	monday := users.ChatTimeRange{Day: time.Monday, Start: clock(9, 0, 0), End: clock(10, 0, 0)}
	master := mustCreate(t, st, account("master001", auth.RoleMaster, monday))
	mustCreate(t, st, account("manager01", auth.RoleManager))
	mustCreate(t, st, account("user00001", auth.RoleUser))

	unchanged := func() {
		t.Helper()
		got, err := st.Get(ctx, master.ID)
		if err != nil {
			t.Fatal(err)
		}
		sameUser(t, got, master)
	}

	_, err := st.Update(ctx, master.ID, demote(master.ID))
	wantLastMaster(t, err)
	unchanged()
	_, err = st.Update(ctx, master.ID, remove(master.ID))
	wantLastMaster(t, err)
	unchanged()

	// A change that keeps the role is not affected.
	renamed, err := st.Update(ctx, master.ID, func(u *users.User) error {
		return u.UpdateByAdmin(users.AdminUpdate{Name: ptr("Root")}, auth.Identity{UserID: master.ID, Role: auth.RoleMaster}, time.Now())
	})
	if err != nil || renamed.Name != "Root" || renamed.Role != auth.RoleMaster {
		t.Fatalf("rename the last master = %+v, %v", renamed, err)
	}
	// The baseline is what was stored.
	if master, err = st.Get(ctx, master.ID); err != nil {
		t.Fatal(err)
	}

	// A deleted MASTER does not count as another one.
	second := mustCreate(t, st, account("master002", auth.RoleMaster))
	if _, err := st.Update(ctx, second.ID, remove(master.ID)); err != nil {
		t.Fatalf("delete the second master: %v", err)
	}
	_, err = st.Update(ctx, master.ID, demote(master.ID))
	wantLastMaster(t, err)
	unchanged()

	// With another live MASTER, the first may go; then the other is the last.
	third := mustCreate(t, st, account("master003", auth.RoleMaster))
	if _, err := st.Update(ctx, master.ID, demote(third.ID)); err != nil {
		t.Fatalf("demote a master while another exists: %v", err)
	}
	_, err = st.Update(ctx, third.ID, remove(third.ID))
	wantLastMaster(t, err)
	if n := count(t, db, `SELECT count(*) FROM users.users WHERE role = 'MASTER' AND deleted_at IS NULL`); n != 1 {
		t.Errorf("%d live masters, want 1", n)
	}
}

func TestStoreLastMasterConcurrent(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// changes returns the two updates to race, as (id to update, change).
		changes func(a, b uuid.UUID) [2]func(*users.Store) error
	}{
		{"each demotes the other", func(a, b uuid.UUID) [2]func(*users.Store) error {
			return [2]func(*users.Store) error{
				func(st *users.Store) error { _, err := st.Update(context.Background(), b, demote(a)); return err },
				func(st *users.Store) error { _, err := st.Update(context.Background(), a, demote(b)); return err },
			}
		}},
		{"each demotes itself", func(a, b uuid.UUID) [2]func(*users.Store) error {
			return [2]func(*users.Store) error{
				func(st *users.Store) error { _, err := st.Update(context.Background(), a, demote(a)); return err },
				func(st *users.Store) error { _, err := st.Update(context.Background(), b, demote(b)); return err },
			}
		}},
		{"one demotes itself, one deletes itself", func(a, b uuid.UUID) [2]func(*users.Store) error {
			return [2]func(*users.Store) error{
				func(st *users.Store) error { _, err := st.Update(context.Background(), a, demote(a)); return err },
				func(st *users.Store) error { _, err := st.Update(context.Background(), b, remove(b)); return err },
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			st, db := newStore(t)
			a := mustCreate(t, st, account("master001", auth.RoleMaster)).ID
			b := mustCreate(t, st, account("master002", auth.RoleMaster)).ID
			// Several rounds, so the two transactions really overlap in some of them.
			for round := range 5 {
				if _, err := db.Exec(ctx, `UPDATE users.users SET role = 'MASTER', deleted_at = NULL, deleted_by = NULL`); err != nil {
					t.Fatal(err)
				}
				start := make(chan struct{})
				var errs [2]error
				var wg sync.WaitGroup
				for i, change := range tt.changes(a, b) {
					wg.Go(func() {
						<-start
						errs[i] = change(st)
					})
				}
				close(start)
				wg.Wait()
				ok, refused := 0, 0
				for _, err := range errs {
					switch {
					case err == nil:
						ok++
					case errors.Is(err, users.ErrLastMaster):
						refused++
					default:
						t.Errorf("round %d: unexpected error %v", round, err)
					}
				}
				if ok != 1 || refused != 1 {
					t.Errorf("round %d: %d succeeded, %d refused; want exactly one each", round, ok, refused)
				}
				if n := count(t, db, `SELECT count(*) FROM users.users WHERE role = 'MASTER' AND deleted_at IS NULL`); n != 1 {
					t.Errorf("round %d: %d live masters, want 1", round, n)
				}
			}
		})
	}
}

func TestStoreChatRanges(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, _ := newStore(t)
	mon1 := users.ChatTimeRange{Day: time.Monday, Start: clock(9, 0, 0), End: clock(12, 0, 0)}
	mon2 := users.ChatTimeRange{Day: time.Monday, Start: clock(12, 0, 0), End: clock(18, 0, 0)}
	tue := users.ChatTimeRange{Day: time.Tuesday, Start: clock(9, 0, 0), End: clock(10, 0, 0)}
	sun := users.ChatTimeRange{Day: time.Sunday, Start: clock(22, 0, 0), End: clock(23, 59, 59)}
	u := mustCreate(t, st, account("alice1234", auth.RoleUser, sun, mon2, tue, mon1))
	other := mustCreate(t, st, account("bob123456", auth.RoleUser, users.ChatTimeRange{Day: time.Monday, Start: 0, End: clock(23, 0, 0)}))

	at := func(h, m, s int) *users.Clock { c := clock(h, m, s); return &c }
	tests := []struct {
		name string
		day  time.Weekday
		at   *users.Clock
		want []users.ChatTimeRange
	}{
		{"whole monday", time.Monday, nil, []users.ChatTimeRange{mon1, mon2}},
		{"monday at a start", time.Monday, at(9, 0, 0), []users.ChatTimeRange{mon1}},
		{"monday before the first", time.Monday, at(8, 59, 59), nil},
		{"monday last second of the first", time.Monday, at(11, 59, 59), []users.ChatTimeRange{mon1}},
		{"monday where they touch", time.Monday, at(12, 0, 0), []users.ChatTimeRange{mon2}},
		{"monday at the end", time.Monday, at(18, 0, 0), nil},
		{"tuesday inside", time.Tuesday, at(9, 30, 0), []users.ChatTimeRange{tue}},
		{"tuesday at monday's time", time.Tuesday, at(15, 0, 0), nil},
		{"wednesday", time.Wednesday, nil, nil},
		{"sunday", time.Sunday, at(23, 0, 0), []users.ChatTimeRange{sun}},
		{"sunday whole", time.Sunday, nil, []users.ChatTimeRange{sun}},
		{"sunday last second", time.Sunday, at(23, 59, 59), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := st.ChatRanges(ctx, u.ID, tt.day, tt.at)
			if err != nil || !equalRanges(got, tt.want) {
				t.Errorf("ChatRanges = %v, %v; want %v", got, err, tt.want)
			}
		})
	}
	t.Run("unknown user", func(t *testing.T) {
		t.Parallel()
		_, err := st.ChatRanges(ctx, uuid.New(), time.Monday, nil)
		if !errors.Is(err, users.ErrNotFound) {
			t.Errorf("ChatRanges(unknown) = %v, want ErrNotFound", err)
		}
	})
	t.Run("user without ranges that day", func(t *testing.T) {
		t.Parallel()
		got, err := st.ChatRanges(ctx, other.ID, time.Friday, nil)
		if err != nil || len(got) != 0 {
			t.Errorf("ChatRanges = %v, %v; want none", got, err)
		}
	})
	t.Run("deleted user", func(t *testing.T) {
		t.Parallel()
		gone := mustCreate(t, st, account("gone12345", auth.RoleUser, mon1))
		if _, err := st.Update(ctx, gone.ID, func(x *users.User) error {
			return x.Delete(auth.Identity{UserID: gone.ID, Role: auth.RoleUser}, time.Now())
		}); err != nil {
			t.Fatal(err)
		}
		_, err := st.ChatRanges(ctx, gone.ID, time.Monday, nil)
		if f, ok := fault.As(err); !ok || !errors.Is(err, users.ErrNotFound) {
			t.Errorf("ChatRanges(deleted) = %v (%v), want ErrNotFound", err, f)
		}
	})
}
