package auth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
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
//
// A durable denylist (NewDurableDenylist, what platform.New should wire) also keeps every
// revocation in PostgreSQL, written before Redis is told, because Redis may come back
// empty from a restart. Redis is trusted only while it holds restoredKey, which is set
// once every revocation of the record has been copied into it (restore); without it,
// Denied asks PostgreSQL, and fails only when neither can answer.
type Denylist struct {
	rdb *redis.Client
	// ledger is the durable record; nil for a denylist in Redis alone.
	ledger *ledger
	// channel is where revocations are published. It names the database because pub/sub
	// ignores the database number and keys do not: a mirror follows its own keys only.
	channel string
	// mirror, once a Revocations is built on this denylist, learns of this process's
	// revocations as soon as they are written, not when the message comes back.
	mirror atomic.Pointer[Revocations]
}

// NewDenylist returns a denylist kept in rdb alone: a Redis that loses its state forgets
// every revocation. Tests of the Redis side use it; processes use NewDurableDenylist.
func NewDenylist(rdb *redis.Client) *Denylist {
	return &Denylist{rdb: rdb, channel: "auth:deny:events:" + strconv.Itoa(rdb.Options().DB)}
}

// NewDurableDenylist returns a denylist kept in rdb and, durably, in the users schema of
// db (users.revoked_tokens, users.revoked_versions): revocations survive a Redis that
// comes back empty, Redis and the mirrors are restored from db, and while Redis is not
// restored, or down, Denied asks db.
func NewDurableDenylist(rdb *redis.Client, db *pgxpool.Pool) *Denylist {
	d := NewDenylist(rdb)
	d.ledger = &ledger{db: db}
	return d
}

// Durable reports whether the denylist keeps its revocations in PostgreSQL too.
func (d *Denylist) Durable() bool { return d.ledger != nil }

const (
	denyKeys       = "auth:deny:*"
	tokenKeyPrefix = "auth:deny:jti:"
	userKeyPrefix  = "auth:deny:user:"
	// restoredKey, outside denyKeys, says Redis holds every revocation of the durable
	// record: restore sets it (to a random epoch) after copying them, and a Redis that
	// lost its state has lost it too. It never expires.
	restoredKey = "auth:revocations:restored"
	// restoringKey holds the epoch of a restore under way. A restore marks Redis restored
	// only if its own epoch is still there: a Redis that restarted meanwhile lost the key,
	// and perhaps revocations written before the restart that the copy began too early
	// to read.
	restoringKey = "auth:revocations:restoring"
)

func tokenKey(jti string) string      { return tokenKeyPrefix + jti }
func userKey(userID uuid.UUID) string { return userKeyPrefix + userID.String() }

// Denied reports whether the token with id jti, issued to userID at token version ver, is
// revoked. It asks Redis every time (Revocations answers from memory); a durable denylist
// asks PostgreSQL instead when Redis is down or not restored, in the same call.
func (d *Denylist) Denied(ctx context.Context, jti string, userID uuid.UUID, ver int64) (bool, error) {
	if d.ledger == nil {
		vals, err := d.rdb.MGet(ctx, tokenKey(jti), userKey(userID)).Result()
		if err != nil {
			return false, fmt.Errorf("check denylist: %w", err)
		}
		return deniedBy(vals, ver)
	}
	// The marker is read with the marks, so they come from one life of the server.
	vals, err := d.rdb.MGet(ctx, tokenKey(jti), userKey(userID), restoredKey).Result()
	if err == nil {
		if vals[2] != nil {
			denied, err := deniedBy(vals[:2], ver)
			if err == nil {
				return denied, nil
			}
			// A mark Redis cannot read: the record can.
		} else {
			err = errors.New("redis not restored from the durable record")
		}
	}
	denied, lerr := d.ledger.denied(ctx, jti, userID, ver)
	if lerr != nil {
		return false, fmt.Errorf("check denylist: redis: %w; %w", err, lerr)
	}
	return denied, nil
}

// deniedBy reads the token and user marks as MGET returned them.
func deniedBy(vals []any, ver int64) (bool, error) {
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
// verifier's leeway). A durable denylist records it in PostgreSQL first: once that is
// done the revocation holds, and an error after it says only that Redis was not told.
func (d *Denylist) DenyToken(ctx context.Context, jti string, expiresAt time.Time) error {
	ttl := time.Until(expiresAt.Add(Leeway))
	if ttl <= 0 {
		return nil
	}
	ttl += time.Second
	if d.ledger != nil {
		if err := d.ledger.denyToken(ctx, jti, time.Now().Add(ttl)); err != nil {
			return fmt.Errorf("deny token: %w", err)
		}
		if m := d.mirror.Load(); m != nil {
			m.denyToken(jti, time.Now().Add(ttl))
		}
		d.prune(ctx)
	}
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
// lives as long as the longest-lived access token could. A durable denylist records it in
// PostgreSQL first (again, if the change that raised the version already did, in its own
// transaction, with RecordUserRevocation: a crash before this call loses nothing then).
func (d *Denylist) RevokeUser(ctx context.Context, userID uuid.UUID, minVersion int64, maxTokenTTL time.Duration) error {
	if maxTokenTTL <= 0 {
		return errors.New("revoke user: token lifetime must be positive")
	}
	ttl := userMarkTTL(maxTokenTTL)
	if d.ledger != nil {
		if err := RecordUserRevocation(ctx, d.ledger.db, userID, minVersion, maxTokenTTL); err != nil {
			return fmt.Errorf("revoke user: %w", err)
		}
		if m := d.mirror.Load(); m != nil {
			m.raiseUser(userID, minVersion, time.Now().Add(ttl))
		}
		d.prune(ctx)
	}
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

const (
	// restoreTimeout bounds a restore: its pending key expires then, so a restorer that
	// died leaves nothing behind for long.
	restoreTimeout = time.Minute
	// restoreBatch is how many marks go to Redis in one round trip.
	restoreBatch = 500
)

// finishRestore marks Redis restored with the epoch ARGV[1] if the pending key still holds
// it, and answers the epoch Redis is restored at: another restore's if one finished
// first, nil if this one was cut short (a restart emptied Redis, or a later restore
// began: it will finish the job).
var finishRestore = redis.NewScript(`
local done = redis.call('GET', KEYS[2])
if done then return done end
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return false end
redis.call('SET', KEYS[2], ARGV[1])
redis.call('DEL', KEYS[1])
return ARGV[1]`)

// restore makes Redis hold every live revocation of the durable record, unless it
// already does, and returns the epoch of the restore Redis holds. Revocations are written
// to PostgreSQL before Redis, so a mark Redis held before losing its state is in the
// record, and one written after the copy read the record went to Redis itself.
func (d *Denylist) restore(ctx context.Context) (string, error) {
	epoch, err := d.rdb.Get(ctx, restoredKey).Result()
	if err == nil {
		return epoch, nil
	}
	if !errors.Is(err, redis.Nil) {
		return "", fmt.Errorf("restore: %w", err)
	}
	began := time.Now()
	epoch = NewTokenID()
	// Set before the record is read: see restoringKey.
	if err := d.rdb.Set(ctx, restoringKey, epoch, restoreTimeout).Err(); err != nil {
		return "", fmt.Errorf("restore: %w", err)
	}
	p := d.rdb.Pipeline()
	flush := func() error {
		if p.Len() == 0 {
			return nil
		}
		if _, err := p.Exec(ctx); err != nil {
			return fmt.Errorf("restore: write: %w", err)
		}
		return nil
	}
	marks := 0
	err = d.ledger.live(ctx, func(e event) error {
		marks++
		switch e.kind {
		case eventToken:
			p.Set(ctx, tokenKey(e.id), "1", e.ttl)
		case eventUser:
			// Never lowers a version a revocation wrote since the restart.
			raiseVersion.Eval(ctx, p, []string{userKeyPrefix + e.id}, e.version, e.ttl.Milliseconds(), d.channel, e.id)
		}
		if p.Len() >= restoreBatch {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	if err != nil {
		return "", fmt.Errorf("restore: %w", err)
	}
	got, err := finishRestore.Run(ctx, d.rdb, []string{restoringKey, restoredKey}, epoch).Text()
	if errors.Is(err, redis.Nil) {
		return "", errors.New("restore: Redis restarted, or another restore began, during the copy")
	}
	if err != nil {
		return "", fmt.Errorf("restore: %w", err)
	}
	if got == epoch {
		slog.Info("revocations: Redis restored from PostgreSQL", "marks", marks, "took", time.Since(began).String())
	}
	d.prune(ctx)
	return got, nil
}

// restoredEpoch returns the epoch Redis is restored at, "" if it is not.
func (d *Denylist) restoredEpoch(ctx context.Context) (string, error) {
	epoch, err := d.rdb.Get(ctx, restoredKey).Result()
	if errors.Is(err, redis.Nil) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read restore marker: %w", err)
	}
	return epoch, nil
}

// prune drops expired rows from the durable record beside a revocation or a restore: no
// scheduled job is needed, and the record keeps to about the live marks. A failure only
// leaves rows for the next prune.
func (d *Denylist) prune(ctx context.Context) {
	if _, err := d.ledger.prune(ctx, ledgerPruneBatch); err != nil {
		slog.WarnContext(ctx, "revocations: prune the durable record", "error", err.Error())
	}
}
