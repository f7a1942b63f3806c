package users_test

import (
	"context"
	"crypto/rand"
	"maps"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/auth/authtest"
	"github.com/8949market/market/shared/config"
	"github.com/8949market/market/shared/fault"
	"github.com/8949market/market/shared/testenv"
	"github.com/8949market/market/shared/testfactory"
	"github.com/8949market/market/shared/users"
)

const (
	badLogin     = "username or password is incorrect"
	msgReused    = "refresh token already used; the session is revoked"
	msgInvalid   = "refresh token invalid, expired or revoked"
	msgNotOwner  = "the access token does not belong to this session"
	msgRelogin   = "the session ended when the account changed; log in again"
	msgNoAccount = "the account no longer exists"
)

// signInBundle is one test's sign-in world: its own database, the shared Redis (keys of
// its own: fresh usernames, addresses and sessions), fresh keys, and the use cases on them.
type signInBundle struct {
	db       *pgxpool.Pool
	store    *users.Store
	deny     *auth.Denylist
	verifier *auth.Verifier
	signer   *auth.Signer
	signIn   *users.SignIn
	cfg      config.Config
}

// setupSignIn builds the bundle; limits, if not nil, replaces the login limits (by
// default too high to reach).
func setupSignIn(t *testing.T, limits *users.LoginLimits) *signInBundle {
	t.Helper()
	db, rdb, key := testenv.DB(t), testenv.Redis(t), testenv.Key(t)
	cfg := config.Config{
		BcryptCost: users.MinCost, AccessTokenTTL: 15 * time.Minute, RefreshTokenTTL: time.Hour,
		LoginMaxPerClient: 1 << 40, LoginMaxFailures: 10, LoginWindow: 15 * time.Minute,
	}
	if limits != nil {
		cfg.LoginMaxPerClient, cfg.LoginMaxFailures, cfg.LoginWindow = limits.MaxPerClient, limits.MaxFailures, limits.Window
	}
	b := &signInBundle{db: db, store: users.NewStore(db, cfg.AccessTokenTTL), deny: auth.NewDurableDenylist(rdb, db), signer: auth.NewSigner(key), cfg: cfg}
	b.verifier = auth.NewVerifier(key.PublicKeys(), b.deny)
	b.signIn = users.NewSignIn(db, rdb, b.signer, b.verifier, b.deny, cfg)
	return b
}

// user stores an account with testfactory.UserPassword.
func (b *signInBundle) user(t *testing.T) users.User {
	t.Helper()
	return testfactory.User(context.Background(), t, b.db, nil)
}

func (b *signInBundle) login(t *testing.T, u users.User) users.Pair {
	t.Helper()
	p, err := b.signIn.Login(context.Background(), u.Username, testfactory.UserPassword, newAddr())
	if err != nil {
		t.Fatalf("login %s: %v", u.Username, err)
	}
	return p
}

func (b *signInBundle) mustReissue(t *testing.T, p users.Pair) users.Pair {
	t.Helper()
	next, err := b.signIn.Reissue(context.Background(), p.AccessToken, p.RefreshToken)
	if err != nil {
		t.Fatalf("reissue: %v", err)
	}
	return next
}

// works reports whether another function would accept access.
func (b *signInBundle) works(t *testing.T, access string) bool {
	t.Helper()
	_, err := b.verifier.Verify(context.Background(), access)
	if err != nil && !isKind(err, fault.Unauthenticated) {
		t.Fatalf("verify: unexpected %v", err)
	}
	return err == nil
}

func isKind(err error, k fault.Kind) bool {
	f, ok := fault.As(err)
	return ok && f.Kind == k
}

// wantRefused checks a 401 fault with code and, if given, message.
func wantRefused(t *testing.T, what string, err error, code, message string) {
	t.Helper()
	f, ok := fault.As(err)
	if !ok || f.Kind != fault.Unauthenticated || f.Code != code || (message != "" && f.Message != message) {
		t.Errorf("%s: %v, want 401 %s %q", what, err, code, message)
	}
}

// newAddr is a client address no other test uses.
func newAddr() string {
	ip := make(net.IP, net.IPv6len)
	_, _ = rand.Read(ip)
	copy(ip, []byte{0x20, 0x01, 0x0d, 0xb8}) // documentation prefix
	return ip.String()
}

func newUsername() string { return "u" + strings.ReplaceAll(uuid.NewString(), "-", "")[:11] }

func TestLogin(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	// An unknown username costs a bcrypt comparison like a wrong password does, so response
	// times do not tell which usernames exist. The two kinds alternate, so that load from
	// other tests hits both alike.
	t.Run("unknown user costs a password check", func(t *testing.T) {
		t.Parallel()
		b := setupSignIn(t, nil)
		u := b.user(t)
		const n = 5 // below the failure limit of the username
		var unknown, wrong []time.Duration
		measure := func(username, password string) time.Duration {
			start := time.Now()
			_, err := b.signIn.Login(ctx, username, password, newAddr())
			d := time.Since(start)
			wantRefused(t, "login", err, "U020", badLogin)
			return d
		}
		for range n {
			unknown = append(unknown, measure(newUsername(), testfactory.UserPassword))
			wrong = append(wrong, measure(u.Username, testfactory.UserPassword+"x"))
		}
		// The fastest of each: load from parallel tests only ever adds time.
		mu, mw := slices.Min(unknown), slices.Min(wrong)
		ratio := float64(mu) / float64(mw)
		t.Logf("fastest unknown user %s, wrong password %s, ratio %.2f", mu, mw, ratio)
		if ratio < 0.5 || ratio > 2 {
			t.Errorf("unknown user takes %.2fx the time of a wrong password (fastest %s vs %s); want 0.5x to 2x", ratio, mu, mw)
		}
	})

	t.Run("usernames in any case", func(t *testing.T) {
		t.Parallel()
		b := setupSignIn(t, nil)
		u := b.user(t)
		p, err := b.signIn.Login(ctx, " "+strings.ToUpper(u.Username)+" ", testfactory.UserPassword, newAddr())
		if err != nil || p.TokenType != "Bearer" || p.ExpiresIn != 900 || !b.works(t, p.AccessToken) {
			t.Fatalf("login = %+v, %v", p, err)
		}
	})

	t.Run("deleted user cannot log in", func(t *testing.T) {
		t.Parallel()
		b := setupSignIn(t, nil)
		gone := b.user(t)
		p := b.login(t, gone)
		if _, err := users.Remove(ctx, b.store, b.deny, auth.Identity{UserID: gone.ID, Role: gone.Role}, gone.ID, time.Now()); err != nil {
			t.Fatalf("remove: %v", err)
		}
		_, err := b.signIn.Login(ctx, gone.Username, testfactory.UserPassword, newAddr())
		wantRefused(t, "login after delete", err, "U020", badLogin)
		if b.works(t, p.AccessToken) {
			t.Error("token of a deleted user accepted")
		}
	})
}

// wantLimited checks a 429 C013 whose Retry-After is whole seconds within the window.
func wantLimited(t *testing.T, what string, err error, window time.Duration) {
	t.Helper()
	f, ok := fault.As(err)
	if !ok || f.Kind != fault.TooMany || f.Code != "C013" {
		t.Fatalf("%s: %v, want 429 C013", what, err)
	}
	if f.RetryAfter < 1 || f.RetryAfter > int(window.Seconds()) {
		t.Errorf("%s: Retry-After %d, want whole seconds in 1..%d", what, f.RetryAfter, int(window.Seconds()))
	}
}

func TestLoginRateLimits(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	limits := &users.LoginLimits{MaxFailures: 3, MaxPerClient: 5, Window: time.Minute}
	failed := func(t *testing.T, b *signInBundle, what, username string) {
		t.Helper()
		_, err := b.signIn.Login(ctx, username, "Wrong!pass1", newAddr())
		wantRefused(t, what, err, "U020", "")
	}

	t.Run("failures per username", func(t *testing.T) {
		t.Parallel()
		b := setupSignIn(t, limits)
		u := b.user(t)
		for i := range 3 {
			// A fresh address each time: only the username's count may trip.
			failed(t, b, "failure "+strconv.Itoa(i+1), u.Username)
		}
		// Locked even with the right password, and under any spelling of the username.
		_, err := b.signIn.Login(ctx, u.Username, testfactory.UserPassword, newAddr())
		wantLimited(t, "right password after 3 failures", err, limits.Window)
		_, err = b.signIn.Login(ctx, strings.ToUpper(u.Username), testfactory.UserPassword, newAddr())
		wantLimited(t, "upper-case username", err, limits.Window)
		_, err = b.signIn.Login(ctx, u.Username, "Wrong!pass2", newAddr())
		wantLimited(t, "another wrong password", err, limits.Window)
	})

	t.Run("failures per unknown username", func(t *testing.T) {
		t.Parallel()
		b := setupSignIn(t, limits)
		// An unknown name locks like a real one, so the limiter tells nothing either.
		name := newUsername()
		for i := range 3 {
			failed(t, b, "failure "+strconv.Itoa(i+1), name)
		}
		_, err := b.signIn.Login(ctx, name, "Wrong!pass1", newAddr())
		wantLimited(t, "4th attempt", err, limits.Window)
	})

	t.Run("success resets the failures", func(t *testing.T) {
		t.Parallel()
		b := setupSignIn(t, limits)
		u := b.user(t)
		failed(t, b, "failure 1", u.Username)
		failed(t, b, "failure 2", u.Username)
		b.login(t, u)
		// Without the reset these would be failures 3 and 4, and the 4th would be 429.
		failed(t, b, "failure 1 after the success", u.Username)
		failed(t, b, "failure 2 after the success", u.Username)
	})

	t.Run("attempts per client address", func(t *testing.T) {
		t.Parallel()
		b := setupSignIn(t, limits)
		u := b.user(t)
		addr := newAddr()
		for i := range 5 {
			_, err := b.signIn.Login(ctx, newUsername(), "Wrong!pass1", addr)
			wantRefused(t, "attempt "+strconv.Itoa(i+1), err, "U020", "")
		}
		// The 6th attempt is refused whatever the username and password.
		_, err := b.signIn.Login(ctx, u.Username, testfactory.UserPassword, addr)
		wantLimited(t, "6th attempt", err, limits.Window)
		// Another client is not affected, nor is the account.
		b.login(t, u)
	})
}

func TestReissue(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	reissue := func(b *signInBundle, access, refresh string) error {
		_, err := b.signIn.Reissue(ctx, access, refresh)
		return err
	}

	t.Run("reuse revokes the family only", func(t *testing.T) {
		t.Parallel()
		b := setupSignIn(t, nil)
		u := b.user(t)
		victim, other := b.login(t, u), b.login(t, u)
		next := b.mustReissue(t, victim)
		if authtest.Family(next.RefreshToken) != authtest.Family(victim.RefreshToken) {
			t.Errorf("refresh family changed: %s -> %s", authtest.Family(victim.RefreshToken), authtest.Family(next.RefreshToken))
		}

		// The spent refresh token again, as a thief holding the old pair would send it.
		wantRefused(t, "spent refresh token", reissue(b, victim.AccessToken, victim.RefreshToken), "C002", msgReused)
		// The newest token of the family is dead too.
		wantRefused(t, "newest refresh token of the family", reissue(b, next.AccessToken, next.RefreshToken), "C002", msgInvalid)

		// The user's other session is untouched.
		if !b.works(t, other.AccessToken) {
			t.Error("other session's access token refused")
		}
		if p := b.mustReissue(t, other); !b.works(t, p.AccessToken) {
			t.Error("other session's reissued access token refused")
		}
	})

	t.Run("refuses garbage", func(t *testing.T) {
		t.Parallel()
		b := setupSignIn(t, nil)
		s := b.login(t, b.user(t))
		unknownFamily := strings.Repeat("ab", 16) + ".c2VjcmV0"
		for _, refresh := range []string{"garbage", "no-dot-at-all", ".secret", authtest.Family(s.RefreshToken) + ".",
			strings.ToUpper(authtest.Family(s.RefreshToken)) + ".secret", unknownFamily, "../" + authtest.Family(s.RefreshToken) + ".x"} {
			wantRefused(t, "refresh "+refresh, reissue(b, s.AccessToken, refresh), "C002", msgInvalid)
		}
		// A bad access token is refused before the refresh token is looked at, so it
		// does not spend it.
		forged := s.AccessToken[:len(s.AccessToken)-4] + "AAAA"
		if forged == s.AccessToken {
			forged = s.AccessToken[:len(s.AccessToken)-4] + "BBBB"
		}
		for _, access := range []string{"garbage", forged, s.RefreshToken} {
			wantRefused(t, "access "+access, reissue(b, access, s.RefreshToken), "C002", "access token invalid or expired")
		}
		// None of that touched the session.
		if p := b.mustReissue(t, s); !b.works(t, p.AccessToken) {
			t.Error("session broken by refused requests")
		}
	})

	t.Run("access token of another user", func(t *testing.T) {
		t.Parallel()
		b := setupSignIn(t, nil)
		a, bob := b.login(t, b.user(t)), b.login(t, b.user(t))
		wantRefused(t, "A's access with B's refresh", reissue(b, a.AccessToken, bob.RefreshToken), "U020", msgNotOwner)
		// B's refresh token was exposed with a foreign access token: B's session ends.
		wantRefused(t, "B's own pair afterwards", reissue(b, bob.AccessToken, bob.RefreshToken), "C002", "")
		// A's session was not presented and goes on.
		b.mustReissue(t, a)
	})

	t.Run("access token of another session", func(t *testing.T) {
		t.Parallel()
		b := setupSignIn(t, nil)
		u := b.user(t)
		one, two := b.login(t, u), b.login(t, u)
		wantRefused(t, "session one's access with session two's refresh", reissue(b, one.AccessToken, two.RefreshToken), "U020", msgNotOwner)
		wantRefused(t, "session two afterwards", reissue(b, two.AccessToken, two.RefreshToken), "C002", "")
		b.mustReissue(t, one)
	})

	t.Run("expired access token", func(t *testing.T) {
		t.Parallel()
		b := setupSignIn(t, nil)
		s := b.login(t, b.user(t))
		// The same sub, sid and ver, signed by the same key, expired an hour ago.
		c := maps.Clone(authtest.Claims(t, s.AccessToken))
		now := time.Now()
		c["jti"] = auth.NewTokenID()
		c["iat"], c["exp"] = now.Add(-2*time.Hour).Unix(), now.Add(-time.Hour).Unix()
		expired, err := b.signer.Sign(jwt.MapClaims(c))
		if err != nil {
			t.Fatal(err)
		}
		if b.works(t, expired) {
			t.Fatal("expired token accepted")
		}
		p := b.mustReissue(t, users.Pair{AccessToken: expired, RefreshToken: s.RefreshToken})
		if !b.works(t, p.AccessToken) {
			t.Error("access token reissued from an expired one refused")
		}
	})

	t.Run("password change ends every session", func(t *testing.T) {
		t.Parallel()
		b := setupSignIn(t, nil)
		u := b.user(t)
		first, second := b.login(t, u), b.login(t, u)
		newPassword := "Changed!" + uuid.NewString()[:8]
		pw, err := users.NewPasswords(users.MinCost)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := users.UpdateMe(ctx, b.store, b.deny, pw, auth.Identity{UserID: u.ID}, users.SelfUpdate{Password: &newPassword}, time.Now()); err != nil {
			t.Fatalf("change password: %v", err)
		}
		wantRefused(t, "reissue of the changing session", reissue(b, first.AccessToken, first.RefreshToken), "U020", msgRelogin)
		wantRefused(t, "reissue of another session", reissue(b, second.AccessToken, second.RefreshToken), "U020", msgRelogin)
		if b.works(t, second.AccessToken) {
			t.Error("access token from before the password change accepted")
		}
		// A fresh login works at once and its session reissues.
		fresh, err := b.signIn.Login(ctx, u.Username, newPassword, newAddr())
		if err != nil {
			t.Fatalf("fresh login: %v", err)
		}
		if p := b.mustReissue(t, fresh); !b.works(t, p.AccessToken) {
			t.Error("session after the password change refused")
		}
	})

	t.Run("deleted account", func(t *testing.T) {
		t.Parallel()
		b := setupSignIn(t, nil)
		u := b.user(t)
		s := b.login(t, u)
		if _, err := users.Remove(ctx, b.store, b.deny, auth.Identity{UserID: u.ID, Role: u.Role}, u.ID, time.Now()); err != nil {
			t.Fatalf("remove: %v", err)
		}
		wantRefused(t, "reissue after delete", reissue(b, s.AccessToken, s.RefreshToken), "U020", msgNoAccount)
	})

	t.Run("concurrent reuse: one winner", func(t *testing.T) {
		t.Parallel()
		b := setupSignIn(t, nil)
		s := b.login(t, b.user(t))
		const n = 10
		errs := make([]error, n)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				<-start
				errs[i] = reissue(b, s.AccessToken, s.RefreshToken)
			})
		}
		close(start)
		wg.Wait()
		ok, refused := 0, 0
		for _, err := range errs {
			switch {
			case err == nil:
				ok++
			case isKind(err, fault.Unauthenticated):
				refused++
			default:
				t.Errorf("unexpected %v", err)
			}
		}
		if ok != 1 || refused != n-1 {
			t.Errorf("outcomes %v: want exactly one success and %d refusals", errs, n-1)
		}
	})
}

func TestLogout(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setupSignIn(t, nil)
	u := b.user(t)
	s, other := b.login(t, u), b.login(t, u)
	who, err := b.verifier.Verify(ctx, s.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.signIn.Logout(ctx, who); err != nil {
		t.Fatalf("logout: %v", err)
	}
	if b.works(t, s.AccessToken) {
		t.Error("logged-out access token accepted")
	}
	_, err = b.signIn.Reissue(ctx, s.AccessToken, s.RefreshToken)
	wantRefused(t, "reissue after logout", err, "C002", msgInvalid)
	if p := b.mustReissue(t, other); !b.works(t, p.AccessToken) {
		t.Error("another session of the same user ended")
	}
}
