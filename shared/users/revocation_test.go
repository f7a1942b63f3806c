package users_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"

	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/auth/authtest"
	"github.com/8949market/market/shared/testenv"
	"github.com/8949market/market/shared/testenv/instance"
	"github.com/8949market/market/shared/users"
)

const accessTTL = 15 * time.Minute

// process is one process's token checking, wired as platform.New should: a durable
// denylist on the given Redis and database, its mirror running, a verifier on it.
type process struct {
	deny *auth.Denylist
	revs *auth.Revocations
	v    *auth.Verifier
}

func redisClient(t *testing.T, url string) *redis.Client {
	t.Helper()
	opts, err := redis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(opts)
	t.Cleanup(func() { _ = rdb.Close() })
	return rdb
}

func startProcess(t *testing.T, redisURL string, st *revocationBundle) process {
	t.Helper()
	deny := auth.NewDurableDenylist(redisClient(t, redisURL), st.db)
	revs := auth.NewRevocations(deny)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		revs.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return process{deny: deny, revs: revs, v: auth.NewVerifier(st.key.PublicKeys(), revs)}
}

// revocationBundle is one test's deployment: a store on its own database, its keys and
// a Redis of its own that it may restart.
type revocationBundle struct {
	store  *users.Store
	db     *pgxpool.Pool
	key    auth.SigningKey
	signer *auth.Signer
	redis  *instance.RedisServer
}

// signIn issues an access token for u as login does.
func (b *revocationBundle) signIn(t *testing.T, u users.User) string {
	t.Helper()
	tok, _, err := b.signer.Access(auth.Identity{UserID: u.ID, Username: u.Username, Role: u.Role, Version: u.TokenVersion}, accessTTL)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// A password change, a role change and a deletion void the account's tokens, and keep
// voiding them after Redis restarts empty: in the process that was running and in one
// started after the restart. Before durable revocations, each token worked again once
// the mirror resynced to the empty Redis.
func TestAccountRevocationSurvivesRedisRestart(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pw := newPasswords(t)
	master := caller(auth.RoleMaster)
	tests := []struct {
		name   string
		change func(u *users.User) error
	}{
		{"password change", func(u *users.User) error {
			return u.UpdateSelf(users.SelfUpdate{Password: ptr("N3wSecret!")}, pw, time.Now())
		}},
		{"role change", func(u *users.User) error {
			return u.UpdateByAdmin(users.AdminUpdate{UserRole: ptr("MANAGER")}, master, time.Now())
		}},
		{"deletion", func(u *users.User) error {
			return u.Delete(auth.Identity{UserID: u.ID, Role: u.Role}, time.Now())
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			st, db := newStore(t)
			key := testenv.Key(t)
			b := &revocationBundle{store: st, db: db, key: key, signer: auth.NewSigner(key), redis: instance.Redis(t)}
			a := startProcess(t, b.redis.URL(), b)
			testenv.Eventually(t, 10*time.Second, "mirror in step", a.revs.Ready)

			u := mustCreate(t, st, account("alice"+uuid.NewString()[:6], auth.RoleUser))
			old := b.signIn(t, u)
			if _, err := a.v.Verify(ctx, old); err != nil {
				t.Fatalf("before the change: %v", err)
			}
			changed, err := st.Update(ctx, u.ID, tt.change)
			if err != nil {
				t.Fatal(err)
			}
			if err := users.RevokeTokens(ctx, a.deny, changed, accessTTL); err != nil {
				t.Fatal(err)
			}
			if _, err := a.v.Verify(ctx, old); !errors.Is(err, auth.ErrTokenRevoked) {
				t.Fatalf("after the change: Verify = %v, want revoked", err)
			}
			var fresh string
			if changed.DeletedAt == nil {
				fresh = b.signIn(t, changed)
			}

			b.redis.Stop()
			b.redis.Start()

			// Redis holds the mark again only once a mirror has restored it, which it
			// does first thing when it resyncs: the running mirror has then resynced
			// since the restart, and is in step once Ready.
			bare := auth.NewDenylist(redisClient(t, b.redis.URL()))
			authtest.NeverAccepted(t, a.v, old, "running process", func() bool {
				denied, err := bare.Denied(ctx, auth.NewTokenID(), u.ID, u.TokenVersion)
				return err == nil && denied && a.revs.Ready()
			})
			later := startProcess(t, b.redis.URL(), b)
			authtest.NeverAccepted(t, later.v, old, "process started after the restart", later.revs.Ready)
			if fresh != "" {
				for name, p := range map[string]process{"running": a, "later": later} {
					if _, err := p.v.Verify(ctx, fresh); err != nil {
						t.Errorf("%s process: a token issued after the change: %v", name, err)
					}
				}
			}
		})
	}
}

// The revocation is written in the transaction of the change: a change refused after it
// raised the version (the last MASTER demoted) leaves no record; one that commits does.
func TestStoreRecordsRevocationWithTheChange(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, db := newStore(t)
	recorded := func(id uuid.UUID) (int64, bool) {
		var v int64
		err := db.QueryRow(ctx, `SELECT min_version FROM users.revoked_versions WHERE user_id = $1`, id).Scan(&v)
		if errors.Is(err, pgx.ErrNoRows) {
			return 0, false
		}
		if err != nil {
			t.Fatal(err)
		}
		return v, true
	}
	only := mustCreate(t, st, account("master"+uuid.NewString()[:6], auth.RoleMaster))
	_, err := st.Update(ctx, only.ID, func(u *users.User) error {
		return u.UpdateByAdmin(users.AdminUpdate{UserRole: ptr("USER")}, caller(auth.RoleMaster), time.Now())
	})
	if !errors.Is(err, users.ErrLastMaster) {
		t.Fatalf("demoting the last MASTER: %v, want ErrLastMaster", err)
	}
	if v, ok := recorded(only.ID); ok {
		t.Errorf("a refused change left a revocation (version %d)", v)
	}

	u := mustCreate(t, st, account("alice"+uuid.NewString()[:6], auth.RoleUser))
	renamed, err := st.Update(ctx, u.ID, func(u *users.User) error {
		return u.UpdateByAdmin(users.AdminUpdate{Name: ptr("Alicia")}, caller(auth.RoleMaster), time.Now())
	})
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := recorded(u.ID); ok || renamed.TokensRevoked() {
		t.Errorf("a rename revoked tokens (version %d)", v)
	}
	deleted, err := st.Update(ctx, u.ID, func(x *users.User) error { return x.Delete(caller(auth.RoleMaster), time.Now()) })
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := recorded(u.ID); !ok || v != deleted.TokenVersion {
		t.Errorf("after deletion: recorded version %d (%v), want %d", v, ok, deleted.TokenVersion)
	}
}
