package auth

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync/atomic"
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
//
// Every revocation is also published, in the same transaction as its key, so that the
// Revocations mirror of every process hears of it without a round trip per request.
type Denylist struct {
	rdb *redis.Client
	// channel is where revocations are published. It names the database because pub/sub
	// ignores the database number and keys do not: a mirror follows its own keys only.
	channel string
	// mirror, once a Revocations is built on this denylist, learns of this process's
	// revocations as soon as they are written, not when the message comes back.
	mirror atomic.Pointer[Revocations]
}

// NewDenylist returns a denylist kept in rdb.
func NewDenylist(rdb *redis.Client) *Denylist {
	return &Denylist{rdb: rdb, channel: "auth:deny:events:" + strconv.Itoa(rdb.Options().DB)}
}

const (
	denyKeys       = "auth:deny:*"
	tokenKeyPrefix = "auth:deny:jti:"
	userKeyPrefix  = "auth:deny:user:"
)

func tokenKey(jti string) string      { return tokenKeyPrefix + jti }
func userKey(userID uuid.UUID) string { return userKeyPrefix + userID.String() }

// Denied reports whether the token with id jti, issued to userID at token version ver, is
// revoked. It asks Redis every time; Revocations answers from memory.
func (d *Denylist) Denied(ctx context.Context, jti string, userID uuid.UUID, ver int64) (bool, error) {
	vals, err := d.rdb.MGet(ctx, tokenKey(jti), userKey(userID)).Result()
	if err != nil {
		return false, fmt.Errorf("check denylist: %w", err)
	}
	if vals[0] != nil {
		return true, nil
	}
	if s, ok := vals[1].(string); ok {
		minVer, err := parseVersion(s)
		if err != nil {
			return false, fmt.Errorf("check denylist: %w", err)
		}
		return ver < minVer, nil
	}
	return false, nil
}

func parseVersion(s string) (int64, error) {
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("bad minimum version %q: %w", s, err)
	}
	return v, nil
}

// DenyToken revokes one token until it would have expired anyway (expiry plus the
// verifier's leeway).
func (d *Denylist) DenyToken(ctx context.Context, jti string, expiresAt time.Time) error {
	ttl := time.Until(expiresAt.Add(Leeway))
	if ttl <= 0 {
		return nil
	}
	ttl += time.Second
	_, err := d.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Set(ctx, tokenKey(jti), "1", ttl)
		p.Publish(ctx, d.channel, event{kind: eventToken, ttl: ttl, id: jti}.String())
		return nil
	})
	if err != nil {
		return fmt.Errorf("deny token: %w", err)
	}
	if m := d.mirror.Load(); m != nil {
		m.denyToken(jti, time.Now().Add(ttl))
	}
	return nil
}

// raiseVersion sets the key to ARGV[1] unless it already holds a higher version, so a late
// writer never lowers the bar, and publishes the version the key now holds with its
// lifetime: "user <version> <ttl ms> <user id>" (see event).
var raiseVersion = redis.NewScript(`
local ver = redis.call('GET', KEYS[1])
local cur = tonumber(ver or '-1')
if tonumber(ARGV[1]) > cur then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  ver = ARGV[1]
else
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
redis.call('PUBLISH', ARGV[3], 'user ' .. ver .. ' ' .. ARGV[2] .. ' ' .. ARGV[4])
return ver`)

// RevokeUser voids every token of userID whose version is below minVersion. The mark
// lives as long as the longest-lived access token could.
func (d *Denylist) RevokeUser(ctx context.Context, userID uuid.UUID, minVersion int64, maxTokenTTL time.Duration) error {
	if maxTokenTTL <= 0 {
		return errors.New("revoke user: token lifetime must be positive")
	}
	ttl := maxTokenTTL + Leeway + time.Minute
	ver, err := raiseVersion.Run(ctx, d.rdb, []string{userKey(userID)}, minVersion, ttl.Milliseconds(), d.channel, userID.String()).Text()
	if err != nil {
		return fmt.Errorf("revoke user: %w", err)
	}
	if m := d.mirror.Load(); m != nil {
		v, err := parseVersion(ver)
		if err != nil {
			return fmt.Errorf("revoke user: %w", err)
		}
		m.raiseUser(userID, v, time.Now().Add(ttl))
	}
	return nil
}
