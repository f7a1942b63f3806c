package auth_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/testenv"
)

// The Redis keys the denylist writes (see denylist.go); the tests read them to check
// how long a revocation lives.
func jtiKey(jti string) string        { return "auth:deny:jti:" + jti }
func userKey(userID uuid.UUID) string { return "auth:deny:user:" + userID.String() }

func TestDenylistDenyToken(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rdb := testenv.Redis(t)
	d := auth.NewDenylist(rdb)
	userID := uuid.New()
	const iat = int64(0) // the token version
	denied, kept := auth.NewTokenID(), auth.NewTokenID()

	if got, err := d.Denied(ctx, denied, userID, iat); err != nil || got {
		t.Fatalf("Denied before DenyToken = %v, %v; want false", got, err)
	}
	exp := time.Now().Add(10 * time.Minute)
	if err := d.DenyToken(ctx, denied, exp); err != nil {
		t.Fatal(err)
	}
	if got, err := d.Denied(ctx, denied, userID, iat); err != nil || !got {
		t.Errorf("Denied(denied jti) = %v, %v; want true", got, err)
	}
	// The token id alone decides: the same jti is denied whoever it names.
	if got, err := d.Denied(ctx, denied, uuid.New(), iat); err != nil || !got {
		t.Errorf("Denied(denied jti, other user) = %v, %v; want true", got, err)
	}
	if got, err := d.Denied(ctx, kept, userID, iat); err != nil || got {
		t.Errorf("Denied(other jti) = %v, %v; want false", got, err)
	}

	// The mark lives until the verifier would stop accepting the token (expiry plus
	// leeway), not much longer.
	ttl, err := rdb.PTTL(ctx, jtiKey(denied)).Result()
	if err != nil {
		t.Fatal(err)
	}
	if ttl < 10*time.Minute+auth.Leeway || ttl > 10*time.Minute+auth.Leeway+2*time.Second {
		t.Errorf("denylist entry TTL = %v, want about 10m plus the %v leeway", ttl, auth.Leeway)
	}
}

func TestDenylistDenyExpiredTokenIsNoop(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rdb := testenv.Redis(t)
	d := auth.NewDenylist(rdb)
	jti := auth.NewTokenID()
	if err := d.DenyToken(ctx, jti, time.Now().Add(-time.Hour)); err != nil {
		t.Fatalf("DenyToken(expired) = %v, want nil", err)
	}
	if n, err := rdb.Exists(ctx, jtiKey(jti)).Result(); err != nil || n != 0 {
		t.Errorf("Exists = %d, %v; want no entry for a long-expired token", n, err)
	}
}

func TestDenylistRevokeUser(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rdb := testenv.Redis(t)
	d := auth.NewDenylist(rdb)
	userID, other := uuid.New(), uuid.New()
	if err := d.RevokeUser(ctx, userID, 3, 15*time.Minute); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		user uuid.UUID
		ver  int64
		want bool
	}{
		{"version 0", userID, 0, true},
		{"the version just below", userID, 2, true},
		{"the new version", userID, 3, false},
		{"a later version", userID, 4, false},
		{"other user", other, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := d.Denied(ctx, auth.NewTokenID(), tt.user, tt.ver)
			if err != nil || got != tt.want {
				t.Errorf("Denied = %v, %v; want %v", got, err, tt.want)
			}
		})
	}

	ttl, err := rdb.PTTL(ctx, userKey(userID)).Result()
	if err != nil {
		t.Fatal(err)
	}
	if ttl < 15*time.Minute+auth.Leeway || ttl > 17*time.Minute {
		t.Errorf("revocation mark TTL = %v, want the token lifetime plus leeway and a minute", ttl)
	}
}

// A late or repeated revocation never lowers the bar.
func TestDenylistRevokeUserNeverLowers(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := auth.NewDenylist(testenv.Redis(t))
	userID := uuid.New()
	for _, v := range []int64{5, 2, 5} {
		if err := d.RevokeUser(ctx, userID, v, 15*time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := d.Denied(ctx, auth.NewTokenID(), userID, 4); err != nil || !got {
		t.Errorf("version 4 after revoking below 5, then 2: Denied = %v, %v; want true", got, err)
	}
}

func TestDenylistRevokeUserRejectsBadLifetime(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rdb := testenv.Redis(t)
	d := auth.NewDenylist(rdb)
	for _, ttl := range []time.Duration{0, -time.Minute} {
		userID := uuid.New()
		if err := d.RevokeUser(ctx, userID, 1, ttl); err == nil {
			t.Errorf("RevokeUser(ttl %v) = nil, want an error", ttl)
		}
		if n, err := rdb.Exists(ctx, userKey(userID)).Result(); err != nil || n != 0 {
			t.Errorf("RevokeUser(ttl %v) wrote a mark: %d, %v", ttl, n, err)
		}
	}
}

func TestDenylistCorruptMarkFailsClosed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rdb := testenv.Redis(t)
	f := fixture{key: testenv.Key(t), deny: auth.NewDenylist(rdb)}
	f.signer, f.v = auth.NewSigner(f.key), auth.NewVerifier(f.key.PublicKeys(), f.deny)
	userID := uuid.New()
	if err := rdb.Set(ctx, userKey(userID), "not-a-number", time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := f.deny.Denied(ctx, auth.NewTokenID(), userID, 0); err == nil {
		t.Error("Denied with a corrupt mark = nil error")
	}
	rec, seen := bearer(t, f.v, sign(t, f.signer, accessClaims(userID, time.Now())))
	assertFault(t, rec, seen, http.StatusServiceUnavailable, "C014", msgUnavailable)
}

func TestDenylistRedisDown(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := auth.NewDenylist(unreachableRedis(t))
	if got, err := d.Denied(ctx, auth.NewTokenID(), uuid.New(), 0); err == nil || got {
		t.Errorf("Denied = %v, %v; want an error", got, err)
	}
	if err := d.DenyToken(ctx, auth.NewTokenID(), time.Now().Add(time.Minute)); err == nil {
		t.Error("DenyToken = nil, want an error")
	}
	if err := d.RevokeUser(ctx, uuid.New(), 1, time.Minute); err == nil {
		t.Error("RevokeUser = nil, want an error")
	}
}

// The verifier accepts a token up to its leeway after exp, so a denied token must stay
// denied at least that long, including one logged out after exp but inside the leeway.
func TestDenyTokenCoversVerifierLeeway(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rdb := testenv.Redis(t)
	f := newFixture(t)

	// Logged out two seconds after exp: the verifier still accepts the token.
	userID := uuid.New()
	c := accessClaims(userID, time.Now().Add(-15*time.Minute))
	c.ExpiresAt = jwt.NewNumericDate(time.Now().Add(-2 * time.Second))
	tok := sign(t, f.signer, c)
	if _, err := f.v.Verify(ctx, tok); err != nil {
		t.Fatalf("token within leeway refused before logout: %v", err)
	}
	if err := f.deny.DenyToken(ctx, c.ID, c.ExpiresAt.Time); err != nil {
		t.Fatal(err)
	}
	rec, seen := bearer(t, f.v, tok)
	assertUnauthorized(t, rec, seen, msgRevoked)

	// A token logged out before exp stays denied through exp + leeway.
	jti := auth.NewTokenID()
	exp := time.Now().Add(10 * time.Minute)
	if err := f.deny.DenyToken(ctx, jti, exp); err != nil {
		t.Fatal(err)
	}
	ttl, err := rdb.PTTL(ctx, jtiKey(jti)).Result()
	if err != nil {
		t.Fatal(err)
	}
	if until := time.Until(exp) + 5*time.Second; ttl < until {
		t.Errorf("denylist entry TTL = %v, shorter than the %v the verifier accepts the token", ttl, until)
	}
}
