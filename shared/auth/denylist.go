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
// tokens per user can be revoked), and one per user holding the instant before which all
// of that user's tokens are void (deleted user, password change). Both are checked in one
// round trip.
type Denylist struct {
	rdb *redis.Client
}

// NewDenylist returns a denylist kept in rdb.
func NewDenylist(rdb *redis.Client) *Denylist { return &Denylist{rdb: rdb} }

func tokenKey(jti string) string      { return "auth:deny:jti:" + jti }
func userKey(userID uuid.UUID) string { return "auth:deny:user:" + userID.String() }

// Denied reports whether the token with id jti, issued at iat to userID, is revoked.
func (d *Denylist) Denied(ctx context.Context, jti string, userID uuid.UUID, iat time.Time) (bool, error) {
	vals, err := d.rdb.MGet(ctx, tokenKey(jti), userKey(userID)).Result()
	if err != nil {
		return false, fmt.Errorf("check denylist: %w", err)
	}
	if vals[0] != nil {
		return true, nil
	}
	if s, ok := vals[1].(string); ok {
		before, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return false, fmt.Errorf("check denylist: bad revocation instant %q: %w", s, err)
		}
		// Tokens carry whole seconds: one issued in the revocation's second is void too.
		return iat.Unix() <= before, nil
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

// RevokeUser voids every token of userID issued up to at. The mark lives as long as the
// longest-lived access token could.
func (d *Denylist) RevokeUser(ctx context.Context, userID uuid.UUID, at time.Time, maxTokenTTL time.Duration) error {
	if maxTokenTTL <= 0 {
		return errors.New("revoke user: token lifetime must be positive")
	}
	if err := d.rdb.Set(ctx, userKey(userID), strconv.FormatInt(at.Unix(), 10), maxTokenTTL+time.Minute).Err(); err != nil {
		return fmt.Errorf("revoke user: %w", err)
	}
	return nil
}
