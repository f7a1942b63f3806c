package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"

	"github.com/8949market/market/shared/fault"
)

// The faults of refresh-token use. Both are 401 C002 (the client must log in again) and
// differ in message only.
var (
	ErrRefreshInvalid = fault.ErrUnauthenticated.WithMessage("refresh token invalid, expired or revoked")
	ErrRefreshReused  = fault.ErrUnauthenticated.WithMessage("refresh token already used; the session is revoked")
)

// Sessions keeps refresh-token families in Redis. A login starts a family; every reissue
// rotates it to a new token; presenting a spent token of the family again is taken as
// theft and revokes the whole family. A secret the family never issued is only refused:
// the family id is no secret (access tokens carry it as sid), so a guess must not be able
// to end someone's session.
//
// A refresh token is opaque: "<family id>.<secret>". Redis holds, per family, the owner,
// the owner's token version at login, a hash of the current secret and the hashes of the
// spent ones (never a secret), and forgets the family when it has not been used for the
// refresh lifetime.
type Sessions struct {
	rdb *redis.Client
	ttl time.Duration
}

// NewSessions returns a session store in rdb whose refresh tokens live ttl from issue.
func NewSessions(rdb *redis.Client, ttl time.Duration) *Sessions {
	return &Sessions{rdb: rdb, ttl: ttl}
}

// Session is one refresh-token family.
type Session struct {
	ID      string // the family id, also the access tokens' sid
	UserID  uuid.UUID
	Version int64 // the user's token version when the family began
}

func familyKey(id string) string { return "auth:session:" + id }
func spentKey(id string) string  { return "auth:session:" + id + ":spent" }

// Start begins a family for userID at token version ver and returns it with its first
// refresh token.
func (s *Sessions) Start(ctx context.Context, userID uuid.UUID, ver int64) (Session, string, error) {
	sess := Session{ID: NewTokenID(), UserID: userID, Version: ver}
	secret, digest := newSecret()
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.HSet(ctx, familyKey(sess.ID), "user", userID.String(), "ver", ver, "cur", digest)
		p.PExpire(ctx, familyKey(sess.ID), s.ttl)
		return nil
	})
	if err != nil {
		return Session{}, "", fmt.Errorf("start session: %w", err)
	}
	return sess, sess.ID + "." + secret, nil
}

// rotate swaps the family's current secret for a new one if the presented one is current
// and records the old one as spent; a spent secret deletes the family. It answers
// {1, user, ver}, {0} for an unknown family or secret, or {-1} for reuse.
var rotate = redis.NewScript(`
local h = redis.call('HMGET', KEYS[1], 'cur', 'user', 'ver')
if not h[1] then return {0} end
if h[1] ~= ARGV[1] then
  if redis.call('SISMEMBER', KEYS[2], ARGV[1]) == 1 then
    redis.call('DEL', KEYS[1], KEYS[2])
    return {-1}
  end
  return {0}
end
redis.call('HSET', KEYS[1], 'cur', ARGV[2])
redis.call('SADD', KEYS[2], ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
redis.call('PEXPIRE', KEYS[2], ARGV[3])
return {1, h[2], h[3]}`)

// Rotate exchanges a refresh token for the next one of its family. A spent token of the
// family revokes the family and fails with ErrRefreshReused; an unknown, expired or
// revoked one fails with ErrRefreshInvalid.
func (s *Sessions) Rotate(ctx context.Context, token string) (Session, string, error) {
	id, secret, ok := strings.Cut(token, ".")
	if !ok || !validFamilyID(id) || secret == "" {
		return Session{}, "", ErrRefreshInvalid
	}
	next, nextDigest := newSecret()
	res, err := rotate.Run(ctx, s.rdb, []string{familyKey(id), spentKey(id)}, digest(secret), nextDigest, s.ttl.Milliseconds()).Slice()
	if err != nil {
		return Session{}, "", fault.ErrUnavailable.Wrap(fmt.Errorf("rotate session: %w", err))
	}
	switch res[0].(int64) {
	case 0:
		return Session{}, "", ErrRefreshInvalid
	case -1:
		return Session{}, "", ErrRefreshReused
	}
	sess, err := sessionOf(id, res[1], res[2])
	if err != nil {
		return Session{}, "", err
	}
	return sess, id + "." + next, nil
}

// End revokes the family id: none of its refresh tokens works afterwards. Ending an
// unknown or ended family is not an error.
func (s *Sessions) End(ctx context.Context, id string) error {
	if !validFamilyID(id) {
		return nil
	}
	if err := s.rdb.Del(ctx, familyKey(id), spentKey(id)).Err(); err != nil {
		return fmt.Errorf("end session: %w", err)
	}
	return nil
}

func sessionOf(id string, user, ver any) (Session, error) {
	us, _ := user.(string)
	vs, _ := ver.(string)
	userID, err := uuid.Parse(us)
	if err != nil {
		return Session{}, fmt.Errorf("session %s: bad user %q: %w", id, us, err)
	}
	v, err := strconv.ParseInt(vs, 10, 64)
	if err != nil {
		return Session{}, fmt.Errorf("session %s: bad version %q: %w", id, vs, err)
	}
	return Session{ID: id, UserID: userID, Version: v}, nil
}

// newSecret returns 256 random bits, as sent to the client and as stored (a SHA-256 hex
// digest, so a Redis dump holds no usable token).
func newSecret() (secret, stored string) {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails on supported platforms
	secret = base64.RawURLEncoding.EncodeToString(b)
	return secret, digest(secret)
}

func digest(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// validFamilyID accepts what NewTokenID makes (32 lowercase hex digits), so a client
// cannot steer the Redis key.
func validFamilyID(id string) bool {
	if len(id) != 32 {
		return false
	}
	_, err := hex.DecodeString(id)
	return err == nil && strings.ToLower(id) == id
}
