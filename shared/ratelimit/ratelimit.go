// Package ratelimit counts events per key in fixed windows kept in Redis, so every
// instance of a function shares one count.
//
//	l := ratelimit.New(rdb)
//	res, err := l.Hit(ctx, "login:addr:"+ip, 100, 15*time.Minute)
//	if !res.Allowed { /* 429, Retry-After: res.RetryAfter */ }
package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// Limiter counts in Redis.
type Limiter struct {
	rdb *redis.Client
}

// New returns a limiter on rdb.
func New(rdb *redis.Client) *Limiter { return &Limiter{rdb: rdb} }

// Result is a key's count in its current window.
type Result struct {
	Count      int64
	Allowed    bool          // Count is within the limit
	RetryAfter time.Duration // until the window ends; meaningful when not allowed
}

// hit counts one event: the first of a window starts the window's clock.
var hit = redis.NewScript(`
local n = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {n, ttl}`)

func key(k string) string { return "ratelimit:" + k }

// Hit counts one event for key and reports whether it is within limit events per window.
func (l *Limiter) Hit(ctx context.Context, k string, limit int64, window time.Duration) (Result, error) {
	res, err := hit.Run(ctx, l.rdb, []string{key(k)}, window.Milliseconds()).Int64Slice()
	if err != nil {
		return Result{}, fmt.Errorf("rate limit %s: %w", k, err)
	}
	return result(res[0], res[1], limit), nil
}

// Peek reports key's count without counting an event: whether one more would be allowed.
func (l *Limiter) Peek(ctx context.Context, k string, limit int64) (Result, error) {
	p := l.rdb.Pipeline()
	get := p.Get(ctx, key(k))
	ttl := p.PTTL(ctx, key(k))
	if _, err := p.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return Result{}, fmt.Errorf("rate limit %s: %w", k, err)
	}
	n, err := get.Int64()
	if errors.Is(err, redis.Nil) {
		return Result{Allowed: true}, nil
	}
	if err != nil {
		return Result{}, fmt.Errorf("rate limit %s: %w", k, err)
	}
	r := result(n, ttl.Val().Milliseconds(), limit)
	r.Allowed = n < limit
	return r, nil
}

// Reset forgets key's count (a successful login clears its failures).
func (l *Limiter) Reset(ctx context.Context, k string) error {
	if err := l.rdb.Del(ctx, key(k)).Err(); err != nil {
		return fmt.Errorf("rate limit %s: %w", k, err)
	}
	return nil
}

func result(n, ttlMillis, limit int64) Result {
	retry := time.Duration(ttlMillis) * time.Millisecond
	if retry < time.Second {
		retry = time.Second // Retry-After is in whole seconds; never tell a client "now"
	}
	return Result{Count: n, Allowed: n <= limit, RetryAfter: retry}
}
