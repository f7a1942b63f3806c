package auth

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"
)

// Denylist records revoked access tokens in Redis: one key per token id (so any number of
// tokens per user can be revoked), and one per user holding the lowest token version still
// valid for that user (a deleted user, a changed password or role bump the version). Both
// are checked in one round trip.
//
// A version, not a time, voids a user's tokens: tokens carry whole-second iat, so a token
// issued in the same second as a revocation could not be told from one issued before it.
type Denylist struct {
	rdb *redis.Client
}

// NewDenylist returns a denylist kept in rdb.
func NewDenylist(rdb *redis.Client) *Denylist { return &Denylist{rdb: rdb} }

func tokenKey(jti string) string      { return "auth:deny:jti:" + jti }
func userKey(userID uuid.UUID) string { return "auth:deny:user:" + userID.String() }

// Denied reports whether the token with id jti, issued to userID at token version ver, is
// revoked.
func (d *Denylist) Denied(ctx context.Context, jti string, userID uuid.UUID, ver int64) (bool, error) {
	vals, err := d.rdb.MGet(ctx, tokenKey(jti), userKey(userID)).Result()
	if err != nil {
		return false, fmt.Errorf("check denylist: %w", err)
	}
	if vals[0] != nil {
		return true, nil
	}
	if s, ok := vals[1].(string); ok {
		minVer, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return false, fmt.Errorf("check denylist: bad minimum version %q: %w", s, err)
		}
		return ver < minVer, nil
	}
	return false, nil
}

// DenyToken revokes one token until it would have expired anyway (expiry plus the
// verifier's leeway).
func (d *Denylist) DenyToken(ctx context.Context, jti string, expiresAt time.Time) error {
	ttl := time.Until(expiresAt.Add(Leeway))
	if ttl <= 0 {
		return nil
	}
	if err := d.rdb.Set(ctx, tokenKey(jti), "1", ttl+time.Second).Err(); err != nil {
		return fmt.Errorf("deny token: %w", err)
	}
	return nil
}

// raiseVersion sets the key to ARGV[1] unless it already holds a higher version, so a late
// writer never lowers the bar.
var raiseVersion = redis.NewScript(`
local cur = tonumber(redis.call('GET', KEYS[1]) or '-1')
if tonumber(ARGV[1]) > cur then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
else
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 1`)

// RevokeUser voids every token of userID whose version is below minVersion. The mark
// lives as long as the longest-lived access token could.
func (d *Denylist) RevokeUser(ctx context.Context, userID uuid.UUID, minVersion int64, maxTokenTTL time.Duration) error {
	if maxTokenTTL <= 0 {
		return errors.New("revoke user: token lifetime must be positive")
	}
	ttl := maxTokenTTL + Leeway + time.Minute
	if err := raiseVersion.Run(ctx, d.rdb, []string{userKey(userID)}, minVersion, ttl.Milliseconds()).Err(); err != nil {
		return fmt.Errorf("revoke user: %w", err)
	}
	return nil
}
