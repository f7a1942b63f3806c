package auth_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"

	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/testenv"
)

// runRevocations runs a mirror of d until the test ends.
func runRevocations(t testing.TB, d *auth.Denylist) *auth.Revocations {
	t.Helper()
	r := auth.NewRevocations(d)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		r.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return r
}

// waitInStep waits until r answers from memory.
func waitInStep(t testing.TB, r *auth.Revocations) {
	t.Helper()
	testenv.Eventually(t, 10*time.Second, "revocations mirror in step", r.Ready)
}

// refusedWithinBound polls refused and fails if a check begun RevocationsMaxStale after
// the revocation was written still finds it accepted: the bound every process keeps,
// mirror in step or not.
func refusedWithinBound(t testing.TB, writtenAt time.Time, what string, refused func() bool) {
	t.Helper()
	bound := writtenAt.Add(auth.RevocationsMaxStale)
	for {
		late := time.Now().After(bound)
		if refused() {
			return
		}
		if late {
			t.Fatalf("%s: still accepted %v after the revocation was written", what, auth.RevocationsMaxStale)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// wantInMemory checks what the mirror alone answers.
func wantInMemory(t testing.TB, r *auth.Revocations, jti string, userID uuid.UUID, ver int64, want bool) {
	t.Helper()
	if denied, ok := r.InMemory(jti, userID, ver); !ok || denied != want {
		t.Errorf("InMemory(user %s, version %d) = %v, in step %v; want %v from memory", userID, ver, denied, ok, want)
	}
}

func revoked(v *auth.Verifier, token string) func() bool {
	return func() bool {
		_, err := v.Verify(context.Background(), token)
		return errors.Is(err, auth.ErrTokenRevoked)
	}
}

func tokenWithVersion(t testing.TB, s *auth.Signer, userID uuid.UUID, ver int64) (string, auth.AccessClaims) {
	t.Helper()
	c := accessClaims(userID, time.Now())
	c.Version = ver
	return sign(t, s, c), c
}

// A revocation written by one process is refused by another, through its mirror, within
// the bound.
func TestRevocationsAcrossProcesses(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a := newFixture(t)
	b := a.peer(t)

	t.Run("token denied", func(t *testing.T) {
		t.Parallel()
		tok, c := tokenWithVersion(t, a.signer, uuid.New(), 0)
		other, _ := tokenWithVersion(t, a.signer, uuid.New(), 0)
		if _, err := b.v.Verify(ctx, tok); err != nil {
			t.Fatalf("before the revocation: %v", err)
		}
		if err := a.deny.DenyToken(ctx, c.ID, c.ExpiresAt.Time); err != nil {
			t.Fatal(err)
		}
		refusedWithinBound(t, time.Now(), "token in the other process", revoked(b.v, tok))
		testenv.Eventually(t, 10*time.Second, "denial in the other process's memory", func() bool {
			denied, ok := b.revs.InMemory(c.ID, uuid.New(), 0)
			return ok && denied
		})
		if _, err := b.v.Verify(ctx, other); err != nil {
			t.Errorf("another token refused: %v", err)
		}
	})

	t.Run("user revoked", func(t *testing.T) {
		t.Parallel()
		userID := uuid.New()
		toks := map[int64]string{}
		for _, ver := range []int64{0, 2, 3, 4} {
			toks[ver], _ = tokenWithVersion(t, a.signer, userID, ver)
		}
		if err := a.deny.RevokeUser(ctx, userID, 3, 15*time.Minute); err != nil {
			t.Fatal(err)
		}
		writtenAt := time.Now()
		tests := []struct {
			ver     int64
			refused bool
		}{{0, true}, {2, true}, {3, false}, {4, false}}
		for _, tt := range tests {
			if tt.refused {
				refusedWithinBound(t, writtenAt, fmt.Sprintf("version %d", tt.ver), revoked(b.v, toks[tt.ver]))
			}
		}
		testenv.Eventually(t, 10*time.Second, "revocation in the other process's memory", func() bool {
			denied, ok := b.revs.InMemory(auth.NewTokenID(), userID, 2)
			return ok && denied
		})
		for _, tt := range tests {
			wantInMemory(t, b.revs, auth.NewTokenID(), userID, tt.ver, tt.refused)
			if _, err := b.v.Verify(ctx, toks[tt.ver]); (err != nil) != tt.refused {
				t.Errorf("version %d: Verify = %v, want refused %v", tt.ver, err, tt.refused)
			}
		}
	})
}

// The process that writes a revocation refuses the token the moment the write returns,
// without waiting for the message to come back.
func TestRevocationsRevokingProcessAtOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	tests := []struct {
		name   string
		revoke func(c auth.AccessClaims) error
	}{
		{"token denied", func(c auth.AccessClaims) error { return f.deny.DenyToken(ctx, c.ID, c.ExpiresAt.Time) }},
		{"user revoked", func(c auth.AccessClaims) error {
			return f.deny.RevokeUser(ctx, uuid.MustParse(c.Subject), c.Version+1, 15*time.Minute)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			for range 20 {
				tok, c := tokenWithVersion(t, f.signer, uuid.New(), 1)
				if _, err := f.v.Verify(ctx, tok); err != nil {
					t.Fatalf("before the revocation: %v", err)
				}
				if err := tt.revoke(c); err != nil {
					t.Fatal(err)
				}
				if _, err := f.v.Verify(ctx, tok); !errors.Is(err, auth.ErrTokenRevoked) {
					t.Fatalf("right after the revocation: Verify = %v, want ErrTokenRevoked", err)
				}
				// From memory, unless the mirror fell out of step (then Redis answered).
				if denied, ok := f.revs.InMemory(c.ID, uuid.MustParse(c.Subject), c.Version); ok && !denied {
					t.Fatal("the mirror does not hold its own process's revocation")
				}
			}
		})
	}
}

// A mirror started after revocations were written loads them before answering.
func TestRevocationsResync(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rdb := testenv.Redis(t)
	d := auth.NewDenylist(rdb)
	jti, userID, corrupt := auth.NewTokenID(), uuid.New(), uuid.New()
	if err := d.DenyToken(ctx, jti, time.Now().Add(10*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := d.RevokeUser(ctx, userID, 5, 15*time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := rdb.Set(ctx, userKey(corrupt), "not-a-number", time.Minute).Err(); err != nil {
		t.Fatal(err)
	}

	r := runRevocations(t, auth.NewDenylist(testenv.Redis(t)))
	waitInStep(t, r)
	tests := []struct {
		name string
		jti  string
		user uuid.UUID
		ver  int64
		want bool
	}{
		{"denied token", jti, uuid.New(), 0, true},
		{"other token", auth.NewTokenID(), uuid.New(), 0, false},
		{"revoked user, version below", auth.NewTokenID(), userID, 4, true},
		{"revoked user, the new version", auth.NewTokenID(), userID, 5, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			testenv.Eventually(t, 10*time.Second, "in step", r.Ready)
			wantInMemory(t, r, tt.jti, tt.user, tt.ver, tt.want)
		})
	}
	// A mark that is not a number is left to Redis, which fails closed.
	t.Run("corrupt mark", func(t *testing.T) {
		t.Parallel()
		if _, ok := r.InMemory(auth.NewTokenID(), corrupt, 0); ok {
			t.Error("the mirror answered for a corrupt mark")
		}
		if got, err := r.Denied(ctx, auth.NewTokenID(), corrupt, 0); err == nil {
			t.Errorf("Denied with a corrupt mark = %v, nil; want an error", got)
		}
	})
}

// Until it is in step, the mirror asks Redis; with Redis unreachable that is an error
// (503), never "allowed".
func TestRevocationsFallback(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rdb := testenv.Redis(t)
	jti := auth.NewTokenID()
	if err := auth.NewDenylist(rdb).DenyToken(ctx, jti, time.Now().Add(10*time.Minute)); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		revs    func(t *testing.T) *auth.Revocations
		wantErr bool
	}{
		{"not started, Redis up", func(t *testing.T) *auth.Revocations {
			return auth.NewRevocations(auth.NewDenylist(testenv.Redis(t)))
		}, false},
		{"not started, Redis unreachable", func(t *testing.T) *auth.Revocations {
			return auth.NewRevocations(auth.NewDenylist(unreachableRedis(t)))
		}, true},
		{"running, Redis unreachable", func(t *testing.T) *auth.Revocations {
			return runRevocations(t, auth.NewDenylist(unreachableRedis(t)))
		}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := tt.revs(t)
			if r.Ready() {
				t.Fatal("Ready before any resync")
			}
			for _, c := range []struct {
				jti  string
				want bool
			}{{jti, true}, {auth.NewTokenID(), false}} {
				got, err := r.Denied(ctx, c.jti, uuid.New(), 0)
				switch {
				case tt.wantErr && err == nil:
					t.Errorf("Denied = %v, nil; want an error", got)
				case !tt.wantErr && (err != nil || got != c.want):
					t.Errorf("Denied = %v, %v; want %v from Redis", got, err, c.want)
				}
			}
			if tt.wantErr {
				key := testenv.Key(t)
				v := auth.NewVerifier(key.PublicKeys(), r)
				rec, seen := bearer(t, v, sign(t, auth.NewSigner(key), accessClaims(uuid.New(), time.Now())))
				assertFault(t, rec, seen, http.StatusServiceUnavailable, "C014", msgUnavailable)
			}
		})
	}
}

// flakyNet dials Redis for one test process and lets the test cut it off: refuse new
// connections, or make the open ones deaf (they still send but hear nothing, as across
// a partition).
type flakyNet struct {
	refuse atomic.Bool
	mu     sync.Mutex
	conns  []*deafConn
}

func (n *flakyNet) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	if n.refuse.Load() {
		return nil, errors.New("flakyNet: connection refused")
	}
	c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	dc := &deafConn{Conn: c}
	n.mu.Lock()
	n.conns = append(n.conns, dc)
	n.mu.Unlock()
	return dc, nil
}

// deafen makes every connection open now hear nothing more.
func (n *flakyNet) deafen() {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, c := range n.conns {
		c.deaf.Store(true)
	}
}

type deafConn struct {
	net.Conn
	deaf atomic.Bool
}

func (c *deafConn) Read(p []byte) (int, error) {
	for c.deaf.Load() {
		if _, err := c.Conn.Read(p); err != nil {
			return 0, err
		}
	}
	return c.Conn.Read(p)
}

// flakyRedis is a client of the test Redis whose network the test controls, and whose
// connections carry name.
func flakyRedis(t testing.TB, name string) (*redis.Client, *flakyNet) {
	t.Helper()
	n := &flakyNet{}
	opts := *testenv.Redis(t).Options()
	opts.Dialer = n.dial
	opts.ClientName = name
	opts.ReadTimeout = 300 * time.Millisecond // a deaf connection fails fast
	rdb := redis.NewClient(&opts)
	t.Cleanup(func() { _ = rdb.Close() })
	return rdb, n
}

// killSubscription has Redis close the subscription connection named name.
func killSubscription(t testing.TB, admin *redis.Client, name string) {
	t.Helper()
	ctx := context.Background()
	list, err := admin.Do(ctx, "CLIENT", "LIST", "TYPE", "pubsub").Text()
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(list) {
		fields := strings.Fields(line)
		var id string
		named := false
		for _, f := range fields {
			if v, ok := strings.CutPrefix(f, "id="); ok {
				id = v
			}
			named = named || f == "name="+name
		}
		if named {
			if err := admin.Do(ctx, "CLIENT", "KILL", "ID", id).Err(); err != nil {
				t.Fatal(err)
			}
			return
		}
	}
	t.Fatalf("no subscription connection named %s", name)
}

// A revocation written while a process's subscription is down (closed by Redis, or
// silent) is not missed: the mirror stops answering alone within the bound, fails closed
// while Redis cannot be asked, and after reconnecting loads what it missed.
func TestRevocationsOutage(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	admin := testenv.Redis(t)
	tests := []struct {
		name string
		cut  func(t *testing.T, n *flakyNet, name string)
	}{
		{"connection closed by Redis", func(t *testing.T, n *flakyNet, name string) {
			n.refuse.Store(true)
			killSubscription(t, admin, name)
		}},
		{"connection silent", func(t *testing.T, n *flakyNet, _ string) {
			n.refuse.Store(true)
			n.deafen()
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a := newFixture(t)
			name := "revocations-test-" + uuid.NewString()[:8]
			rdb, n := flakyRedis(t, name)
			b := fixtureOn(t, a.key, rdb)

			tt.cut(t, n, name)
			cutAt := time.Now()
			tok, c := tokenWithVersion(t, a.signer, uuid.New(), 0)
			userID := uuid.New()
			if err := a.deny.DenyToken(ctx, c.ID, c.ExpiresAt.Time); err != nil {
				t.Fatal(err)
			}
			if err := a.deny.RevokeUser(ctx, userID, 3, 15*time.Minute); err != nil {
				t.Fatal(err)
			}

			// Past the bound, memory is no longer trusted, whether or not the loss was
			// noticed; the check is on the clock, so waiting for it is exact.
			time.Sleep(time.Until(cutAt.Add(auth.RevocationsMaxStale)))
			if b.revs.Ready() {
				t.Fatalf("still answering from memory %v after the subscription was cut", auth.RevocationsMaxStale)
			}
			if denied, err := b.revs.Denied(ctx, c.ID, uuid.MustParse(c.Subject), 0); err == nil && !denied {
				t.Error("during the outage: the token was allowed")
			}
			if _, err := b.v.Verify(ctx, tok); err == nil {
				t.Error("during the outage: Verify accepted the token")
			}

			n.refuse.Store(false)
			testenv.Eventually(t, 15*time.Second, "back in step with the missed revocations", func() bool {
				tokDenied, ok1 := b.revs.InMemory(c.ID, uuid.New(), 0)
				userDenied, ok2 := b.revs.InMemory(auth.NewTokenID(), userID, 2)
				return ok1 && ok2 && tokDenied && userDenied
			})
			wantInMemory(t, b.revs, auth.NewTokenID(), userID, 3, false)
			if _, err := b.v.Verify(ctx, tok); !errors.Is(err, auth.ErrTokenRevoked) {
				t.Errorf("after reconnecting: Verify = %v, want ErrTokenRevoked", err)
			}
		})
	}
}

// Entries are dropped once their keys would have expired: lookups ignore them at once,
// pruning frees them.
func TestRevocationsPrune(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	// The shortest a denial lives: the token expired just inside the leeway.
	short, long := auth.NewTokenID(), auth.NewTokenID()
	if err := f.deny.DenyToken(ctx, short, time.Now().Add(-auth.Leeway+200*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	if err := f.deny.DenyToken(ctx, long, time.Now().Add(10*time.Minute)); err != nil {
		t.Fatal(err)
	}
	userID := uuid.New()
	wantInMemory(t, f.revs, short, userID, 0, true)

	testenv.Eventually(t, 10*time.Second, "short-lived denial forgotten", func() bool {
		denied, ok := f.revs.InMemory(short, userID, 0)
		return ok && !denied
	})
	wantInMemory(t, f.revs, long, userID, 0, true)
	if got, err := f.deny.Denied(ctx, short, userID, 0); err != nil || got {
		t.Errorf("Redis: Denied(short) = %v, %v; want false: the mirror may not forget before Redis", got, err)
	}

	f.revs.Prune(time.Now())
	if f.revs.HoldsToken(short) {
		t.Error("expired entry kept after pruning")
	}
	if !f.revs.HoldsToken(long) {
		t.Error("live entry pruned")
	}
	if n := f.revs.Prune(time.Now().Add(time.Hour)); n != 0 {
		t.Errorf("%d entries left an hour later, want 0", n)
	}
}
