package users_test

import (
	"context"
	"testing"

	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/users"
)

func TestBootstrapCreatesMasterOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, db := newStore(t)
	pw := newPasswords(t)

	created, err := users.Bootstrap(ctx, st, pw, "rootadmin1", "Sup3r!secret")
	if err != nil || !created {
		t.Fatalf("Bootstrap = %v, %v; want true", created, err)
	}
	u, err := st.ByUsername(ctx, "rootadmin1")
	if err != nil {
		t.Fatal(err)
	}
	if u.Role != auth.RoleMaster || u.CreatedBy != u.ID || u.TokenVersion != 0 {
		t.Errorf("bootstrap account = %+v", u)
	}
	if ok, err := pw.Check(u.PasswordHash, "Sup3r!secret"); !ok || err != nil {
		t.Errorf("bootstrap password does not verify: %v, %v", ok, err)
	}

	// Again, even with another password or case: nothing changes.
	for _, again := range []struct{ username, password string }{
		{"rootadmin1", "Sup3r!secret"},
		{"ROOTADMIN1", "An0ther!secret"},
	} {
		created, err := users.Bootstrap(ctx, st, pw, again.username, again.password)
		if err != nil || created {
			t.Errorf("Bootstrap(%s) again = %v, %v; want false", again.username, created, err)
		}
	}
	if n := count(t, db, `SELECT count(*) FROM users.users`); n != 1 {
		t.Errorf("%d users, want 1", n)
	}
	after, err := st.Get(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if after.PasswordHash != u.PasswordHash || after.TokenVersion != u.TokenVersion {
		t.Errorf("a second bootstrap changed the account: %+v", after)
	}
}

func TestBootstrapRefusesBadCredentials(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, db := newStore(t)
	pw := newPasswords(t)
	tests := []struct{ name, username, password string }{
		{"empty username", "", "Sup3r!secret"},
		{"short username", "admin", "Sup3r!secret"},
		{"username with symbol", "root_admin", "Sup3r!secret"},
		{"empty password", "rootadmin1", ""},
		{"short password", "rootadmin1", "short"},
		{"password with space", "rootadmin1", "Sup3r secret"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			created, err := users.Bootstrap(ctx, st, pw, tt.username, tt.password)
			if err == nil || created {
				t.Errorf("Bootstrap = %v, %v; want an error", created, err)
			}
		})
	}
	if n := count(t, db, `SELECT count(*) FROM users.users`); n != 0 {
		t.Errorf("%d users created by refused bootstraps", n)
	}
}

func TestBootstrapLeavesExistingAccount(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, db := newStore(t)
	pw := newPasswords(t)
	existing := mustCreate(t, st, account("RootAdmin1", auth.RoleUser))

	created, err := users.Bootstrap(ctx, st, pw, "rootadmin1", "Sup3r!secret")
	if err != nil || created {
		t.Fatalf("Bootstrap = %v, %v; want false, nil", created, err)
	}
	got, err := st.Get(ctx, existing.ID)
	if err != nil {
		t.Fatal(err)
	}
	sameUser(t, got, existing)
	if n := count(t, db, `SELECT count(*) FROM users.users`); n != 1 {
		t.Errorf("%d users, want only the existing one", n)
	}
}
