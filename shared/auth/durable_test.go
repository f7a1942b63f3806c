package auth_test

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
	"github.com/8949market/market/shared/fault"
	"github.com/8949market/market/shared/testenv"
	"github.com/8949market/market/shared/testenv/instance"
)

// durableWorld is a Redis of the test's own (so it can be restarted empty) and a database
// of its own: the revocations of one deployment.
type durableWorld struct {
	key   auth.SigningKey
	redis *instance.RedisServer
	db    *pgxpool.Pool
}

func newDurableWorld(t *testing.T) durableWorld {
	t.Helper()
	return durableWorld{key: testenv.Key(t), redis: instance.Redis(t), db: testenv.DB(t)}
}

// client is a new Redis client on the world's server, as a process has.
func (w durableWorld) client(t testing.TB) *redis.Client {
	t.Helper()
	opts, err := redis.ParseURL(w.redis.URL())
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(opts)
	t.Cleanup(func() { _ = rdb.Close() })
	return rdb
}

// process is one process of the world, wired as platform.New should wire it: a durable
// denylist, its mirror running, and a verifier on the mirror. It may be out of step.
func (w durableWorld) process(t *testing.T) fixture {
	t.Helper()
	deny := auth.NewDurableDenylist(w.client(t), w.db)
	revs := runRevocations(t, deny)
	return fixture{key: w.key, signer: auth.NewSigner(w.key), deny: deny, revs: revs, v: auth.NewVerifier(w.key.PublicKeys(), revs)}
}

// The issue-15 case: Redis restarts without persistence. Every kind of revocation stays
// refused by the process that was running, through the restart, and by one started after
// it; Redis and the mirrors get the marks back; unrevoked tokens still pass. On a
// Redis-only denylist (the old wiring) every one of these tokens was accepted again.
func TestDurableRevocationsSurviveRedisRestart(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := newDurableWorld(t)
	a := w.process(t)
	waitInStep(t, a.revs)

	type revocation struct {
		name   string
		token  string
		revoke func() error
		// inMemory checks the mark is back in a mirror's memory.
		inMemory func(r *auth.Revocations) bool
	}
	userID := uuid.New()
	var revs []revocation
	{
		tok, c := tokenWithVersion(t, a.signer, uuid.New(), 0)
		revs = append(revs, revocation{"logout", tok,
			func() error { return a.deny.DenyToken(ctx, c.ID, c.ExpiresAt.Time) },
			func(r *auth.Revocations) bool { d, ok := r.InMemory(c.ID, uuid.New(), 0); return ok && d }})
	}
	{
		// A password change, role change or deletion: the version is raised in the
		// change's transaction, then Redis is told.
		tok, c := tokenWithVersion(t, a.signer, userID, 1)
		revs = append(revs, revocation{"account revoked", tok,
			func() error {
				if err := pgx.BeginFunc(ctx, w.db, func(tx pgx.Tx) error {
					return auth.RecordUserRevocation(ctx, tx, userID, 2, 15*time.Minute)
				}); err != nil {
					return err
				}
				return a.deny.RevokeUser(ctx, userID, 2, 15*time.Minute)
			},
			func(r *auth.Revocations) bool {
				d, ok := r.InMemory(auth.NewTokenID(), userID, c.Version)
				return ok && d
			}})
	}
	kept, _ := tokenWithVersion(t, a.signer, uuid.New(), 0)
	current, _ := tokenWithVersion(t, a.signer, userID, 2)
	for _, r := range revs {
		if _, err := a.v.Verify(ctx, r.token); err != nil {
			t.Fatalf("%s: before the revocation: %v", r.name, err)
		}
		if err := r.revoke(); err != nil {
			t.Fatalf("%s: %v", r.name, err)
		}
		if _, err := a.v.Verify(ctx, r.token); !errors.Is(err, auth.ErrTokenRevoked) {
			t.Fatalf("%s: Verify = %v, want revoked", r.name, err)
		}
	}

	w.redis.Stop()
	w.redis.Start()

	// The running process, through its mirror's loss of Redis and its resync. Redis holds
	// a mark again only once a mirror restored it, first thing in a resync: then the
	// running mirror has resynced since the restart (no other runs yet).
	bare := auth.NewDenylist(w.client(t))
	for _, r := range revs {
		id, err := a.v.VerifySignature(r.token)
		if err != nil {
			t.Fatal(err)
		}
		authtest.NeverAccepted(t, a.v, r.token, "running process, "+r.name, func() bool {
			restored, err := bare.Denied(ctx, id.TokenID, id.UserID, id.Version)
			return err == nil && restored && a.revs.Ready() && r.inMemory(a.revs)
		})
	}
	// A process started after the restart, before and after its mirror is in step.
	b := w.process(t)
	for _, r := range revs {
		authtest.NeverAccepted(t, b.v, r.token, "new process, "+r.name, func() bool {
			return b.revs.Ready() && r.inMemory(b.revs)
		})
	}
	// Redis itself holds the marks again, so a bare Redis check refuses them too.
	for _, r := range revs {
		id, err := a.v.VerifySignature(r.token)
		if err != nil {
			t.Fatal(err)
		}
		if denied, err := bare.Denied(ctx, id.TokenID, id.UserID, id.Version); err != nil || !denied {
			t.Errorf("%s: Redis after the restore: Denied = %v, %v; want true", r.name, denied, err)
		}
	}
	for _, f := range []fixture{a, b} {
		for name, tok := range map[string]string{"unrevoked token": kept, "token at the raised version": current} {
			if _, err := f.v.Verify(ctx, tok); err != nil {
				t.Errorf("%s after the restart: %v", name, err)
			}
		}
	}
}

// While Redis is down or not yet restored, a durable denylist answers from PostgreSQL;
// with both away it fails, and the verifier answers 503, never "accepted".
func TestDurableDenylistWithoutRedis(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pg := instance.Postgres(t)
	db := testenv.Connect(t, pg.Migrated(t, "market"))
	w := durableWorld{key: testenv.Key(t), redis: instance.Redis(t), db: db}
	deny := auth.NewDurableDenylist(w.client(t), db)
	v := auth.NewVerifier(w.key.PublicKeys(), deny)
	signer := auth.NewSigner(w.key)

	userID := uuid.New()
	loggedOut, c := tokenWithVersion(t, signer, uuid.New(), 0)
	old, _ := tokenWithVersion(t, signer, userID, 0)
	fresh, _ := tokenWithVersion(t, signer, userID, 1)
	if err := deny.DenyToken(ctx, c.ID, c.ExpiresAt.Time); err != nil {
		t.Fatal(err)
	}
	if err := deny.RevokeUser(ctx, userID, 1, 15*time.Minute); err != nil {
		t.Fatal(err)
	}
	check := func(t *testing.T, state string, want map[string]error) {
		t.Helper()
		for name, tok := range map[string]string{"logged out": loggedOut, "old version": old, "current version": fresh} {
			_, err := v.Verify(ctx, tok)
			if (want[name] == nil) != (err == nil) || (want[name] != nil && !errors.Is(err, want[name])) {
				t.Errorf("%s, %s: Verify = %v, want %v", state, name, err, want[name])
			}
		}
	}
	fromRecord := map[string]error{"logged out": auth.ErrTokenRevoked, "old version": auth.ErrTokenRevoked, "current version": nil}

	w.redis.Stop()
	check(t, "Redis down", fromRecord)
	w.redis.Start()
	check(t, "Redis back empty, not restored", fromRecord)
	pg.Stop()
	unavailable := map[string]error{"logged out": fault.ErrUnavailable, "old version": fault.ErrUnavailable, "current version": fault.ErrUnavailable}
	check(t, "Redis not restored, PostgreSQL down", unavailable)
	w.redis.Stop()
	check(t, "both down", unavailable)
}

// The account's revocation is written in the transaction of the change that raised its
// version: rolled back with it, kept with it, whatever Redis hears.
func TestRecordUserRevocationFollowsTransaction(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := newDurableWorld(t)
	deny := auth.NewDurableDenylist(w.client(t), w.db)
	w.redis.Stop() // only the record can answer

	tests := []struct {
		name   string
		commit bool
	}{{"rolled back", false}, {"committed", true}}
	for _, tt := range tests {
		userID := uuid.New()
		errRollback := errors.New("the change failed")
		err := pgx.BeginFunc(ctx, w.db, func(tx pgx.Tx) error {
			if err := auth.RecordUserRevocation(ctx, tx, userID, 5, 15*time.Minute); err != nil {
				return err
			}
			if !tt.commit {
				return errRollback
			}
			return nil
		})
		if tt.commit && err != nil || !tt.commit && !errors.Is(err, errRollback) {
			t.Fatalf("%s: transaction: %v", tt.name, err)
		}
		denied, err := deny.Denied(ctx, auth.NewTokenID(), userID, 4)
		if err != nil || denied != tt.commit {
			t.Errorf("%s: Denied(version 4) = %v, %v; want %v", tt.name, denied, err, tt.commit)
		}
	}
	if err := auth.RecordUserRevocation(ctx, w.db, uuid.New(), 1, 0); err == nil {
		t.Error("RecordUserRevocation with no token lifetime succeeded")
	}
}

// Expired rows of the record are pruned beside new revocations; live ones stay.
func TestDurableRecordPruned(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := newDurableWorld(t)
	deny := auth.NewDurableDenylist(w.client(t), w.db)
	expiredUser, liveUser := uuid.New(), uuid.New()
	if _, err := w.db.Exec(ctx, `INSERT INTO users.revoked_tokens (jti, expires_at) VALUES ('expired', now() - interval '1 second')`); err != nil {
		t.Fatal(err)
	}
	if _, err := w.db.Exec(ctx, `
		INSERT INTO users.revoked_versions (user_id, min_version, expires_at)
		VALUES ($1, 3, now() - interval '1 second'), ($2, 3, now() + interval '1 hour')`,
		expiredUser, liveUser); err != nil {
		t.Fatal(err)
	}
	live := auth.NewTokenID()
	if err := deny.DenyToken(ctx, live, time.Now().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	var tokens []string
	rows, err := w.db.Query(ctx, `SELECT jti FROM users.revoked_tokens ORDER BY jti`)
	if err == nil {
		tokens, err = pgx.CollectRows(rows, pgx.RowTo[string])
	}
	if err != nil {
		t.Fatal(err)
	}
	if len(tokens) != 1 || tokens[0] != live {
		t.Errorf("revoked tokens after a logout = %v, want only the live one", tokens)
	}
	var users []uuid.UUID
	rows, err = w.db.Query(ctx, `SELECT user_id FROM users.revoked_versions`)
	if err == nil {
		users, err = pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	}
	if err != nil {
		t.Fatal(err)
	}
	if len(users) != 1 || users[0] != liveUser {
		t.Errorf("revoked versions after a logout = %v, want only %s", users, liveUser)
	}
}

// A restore copies the record into Redis once and marks it; a restore cut short by a
// restart (its pending key gone) does not mark Redis restored, so nobody trusts a partial
// copy; one that finds another restore finished takes that one's epoch.
func TestDurableRestore(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := newDurableWorld(t)
	rdb := w.client(t)
	deny := auth.NewDurableDenylist(rdb, w.db)
	userID, jti := uuid.New(), auth.NewTokenID()
	if err := auth.RecordUserRevocation(ctx, w.db, userID, 7, 15*time.Minute); err != nil {
		t.Fatal(err)
	}
	if _, err := w.db.Exec(ctx, `INSERT INTO users.revoked_tokens (jti, expires_at) VALUES ($1, now() + interval '10 minutes')`, jti); err != nil {
		t.Fatal(err)
	}
	bare := auth.NewDenylist(rdb)
	inRedis := func() (token, user bool) {
		t.Helper()
		token, err := bare.Denied(ctx, jti, uuid.New(), 0)
		if err != nil {
			t.Fatal(err)
		}
		user, err = bare.Denied(ctx, auth.NewTokenID(), userID, 6)
		if err != nil {
			t.Fatal(err)
		}
		return token, user
	}
	if token, user := inRedis(); token || user {
		t.Fatal("marks in Redis before any restore")
	}

	epoch, err := deny.Restore(ctx)
	if err != nil || epoch == "" {
		t.Fatalf("Restore = %q, %v", epoch, err)
	}
	if token, user := inRedis(); !token || !user {
		t.Errorf("after the restore: token mark %v, user mark %v; want both", token, user)
	}
	if got, err := rdb.Get(ctx, auth.RestoredKey).Result(); err != nil || got != epoch {
		t.Errorf("restore marker = %q, %v; want %q", got, err, epoch)
	}
	// Marked: a second restore copies nothing and keeps the epoch.
	if err := rdb.Del(ctx, "auth:deny:jti:"+jti).Err(); err != nil {
		t.Fatal(err)
	}
	if again, err := deny.Restore(ctx); err != nil || again != epoch {
		t.Errorf("second Restore = %q, %v; want %q", again, err, epoch)
	}
	if token, _ := inRedis(); token {
		t.Error("a restore of a restored Redis copied again")
	}

	// A restart between the start of a copy and its end.
	if err := rdb.FlushDB(ctx).Err(); err != nil { // the test's own server
		t.Fatal(err)
	}
	if err := rdb.Set(ctx, auth.RestoringKey, "before-the-restart", time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	if err := rdb.Del(ctx, auth.RestoringKey).Err(); err != nil { // what the restart took
		t.Fatal(err)
	}
	if got, err := deny.FinishRestore(ctx, "before-the-restart"); !errors.Is(err, redis.Nil) {
		t.Errorf("finishing a restore cut by a restart = %q, %v; want no marker", got, err)
	}
	if n, err := rdb.Exists(ctx, auth.RestoredKey).Result(); err != nil || n != 0 {
		t.Errorf("restore marker after a cut restore: %d, %v", n, err)
	}
	// Another restore finished first: this one takes its epoch.
	if err := rdb.Set(ctx, auth.RestoredKey, "other", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if got, err := deny.FinishRestore(ctx, "mine"); err != nil || got != "other" {
		t.Errorf("finishing after another restore = %q, %v; want %q", got, err, "other")
	}
}
