package chatserver

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"
)

// presence counts each user's open connections across replicas, in one sorted set per
// user scored by expiry: a replica that dies without closing its connections stops
// counting against the user after three ping intervals.
type presence struct {
	rdb *redis.Client
	max int64
	ttl time.Duration
}

func presenceKey(user uuid.UUID) string { return "chat:conns:" + user.String() }

// admit drops expired entries, then adds conn unless the user is at the limit.
var admit = redis.NewScript(`
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then
  return 0
end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return 1`)

// add admits a new connection; false means the user has too many.
func (p *presence) add(ctx context.Context, user uuid.UUID, conn string) (bool, error) {
	now := time.Now()
	ok, err := admit.Run(ctx, p.rdb, []string{presenceKey(user)},
		now.UnixMilli(), now.Add(p.ttl).UnixMilli(), p.max, conn, p.ttl.Milliseconds()).Int()
	if err != nil {
		return false, fmt.Errorf("count chat connections: %w", err)
	}
	return ok == 1, nil
}

// refresh keeps a live connection counted.
func (p *presence) refresh(ctx context.Context, user uuid.UUID, conn string) error {
	key := presenceKey(user)
	pipe := p.rdb.TxPipeline()
	pipe.ZAddXX(ctx, key, redis.Z{Score: float64(time.Now().Add(p.ttl).UnixMilli()), Member: conn})
	pipe.PExpire(ctx, key, p.ttl)
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("refresh chat connection: %w", err)
	}
	return nil
}

// remove stops counting a closed connection.
func (p *presence) remove(ctx context.Context, user uuid.UUID, conn string) error {
	if err := p.rdb.ZRem(ctx, presenceKey(user), conn).Err(); err != nil {
		return fmt.Errorf("forget chat connection: %w", err)
	}
	return nil
}
