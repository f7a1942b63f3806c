package auth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"
)

// Revocations is a process's in-memory copy of the denylist, so that verifying a token
// costs no Redis round trip. It follows the denylist's channel: on every (re)subscription
// it first subscribes, then reads every revocation key, then applies what the channel
// brings; a revocation written meanwhile is in one or the other. The process's own
// revocations are applied the moment they are written.
//
// It answers alone only while it is known to be in step: after a resync, and while the
// subscription answers its pings. A ping sent at t and answered proves every revocation
// published before t has arrived (Redis answers in order on one connection), so Denied
// trusts memory until t plus RevocationsMaxStale and asks Redis directly after that, as
// it does while starting, resyncing or reconnecting. A revocation written anywhere is
// therefore honoured by every process at most RevocationsMaxStale later, whether or not
// a lost connection was noticed; and with Redis unreachable, Denied answers as the
// Denylist does: from PostgreSQL for a durable one, else it fails.
//
// On a durable denylist, a resync first restores Redis from PostgreSQL if Redis lost its
// state (restart, flush), so the mirror never resyncs to a Redis that forgot; a Redis
// emptied under a live subscription is found within revocationsPruneEvery and restored.
//
//	revs := auth.NewRevocations(deny)
//	go revs.Run(ctx)
//	v := auth.NewVerifier(keys, revs)
type Revocations struct {
	deny *Denylist
	// start is the origin of freshUntil, read on the monotonic clock.
	start time.Time
	// freshUntil is how long after start the mirror may answer alone; zero when it
	// may not. Only Run's goroutine stores it.
	freshUntil atomic.Int64

	mu     sync.RWMutex
	tokens map[string]time.Time // jti → when its key expires
	users  map[uuid.UUID]userMark
}

// userMark is a user's lowest valid token version and when its key expires.
type userMark struct {
	minVersion int64
	expires    time.Time
	// corrupt says the key holds no number; Denied asks Redis, which fails closed.
	corrupt bool
}

const (
	// RevocationsMaxStale bounds how long a revocation written anywhere can go unseen by
	// a process's mirror: past it without a ping answered, Denied asks Redis instead.
	RevocationsMaxStale = 2 * time.Second
	// revocationsPing is how often the subscription is pinged; several pings fit in
	// RevocationsMaxStale, so a slow answer does not push requests to Redis.
	revocationsPing = 500 * time.Millisecond
	// revocationsSubscribeTimeout bounds the wait for the subscription confirmation.
	revocationsSubscribeTimeout = 5 * time.Second
	// revocationsPruneEvery is how often expired entries are dropped; lookups ignore
	// them before that.
	revocationsPruneEvery = 30 * time.Second
	revocationsMinBackoff = 100 * time.Millisecond
	revocationsMaxBackoff = 5 * time.Second
	revocationsScanBatch  = 1000
)

// NewRevocations returns a mirror of d's revocations, empty and not yet in step: it
// answers through d until Run has resynced it. Revocations written through d are
// applied to it at once; build one per Denylist, as only the latest is told.
func NewRevocations(d *Denylist) *Revocations {
	r := &Revocations{
		deny:   d,
		start:  time.Now(),
		tokens: make(map[string]time.Time),
		users:  make(map[uuid.UUID]userMark),
	}
	d.mirror.Store(r)
	return r
}

// Denied reports whether the token with id jti, issued to userID at token version ver, is
// revoked: from memory while the mirror is in step, from Redis otherwise.
func (r *Revocations) Denied(ctx context.Context, jti string, userID uuid.UUID, ver int64) (bool, error) {
	if denied, ok := r.lookup(time.Now(), jti, userID, ver); ok {
		return denied, nil
	}
	return r.deny.Denied(ctx, jti, userID, ver)
}

// lookup answers from memory; ok is false when memory cannot answer.
func (r *Revocations) lookup(now time.Time, jti string, userID uuid.UUID, ver int64) (denied, ok bool) {
	// Freshness is read under the lock a resync takes to replace the maps, so an answer
	// never comes from maps swapped in before the resync caught up.
	r.mu.RLock()
	defer r.mu.RUnlock()
	if now.Sub(r.start) >= time.Duration(r.freshUntil.Load()) {
		return false, false
	}
	if exp, found := r.tokens[jti]; found && now.Before(exp) {
		return true, true
	}
	m, found := r.users[userID]
	if !found || !now.Before(m.expires) {
		return false, true
	}
	if m.corrupt {
		return false, false
	}
	return ver < m.minVersion, true
}

// Ready reports whether Denied currently answers from memory.
func (r *Revocations) Ready() bool {
	return time.Since(r.start) < time.Duration(r.freshUntil.Load())
}

func (r *Revocations) denyToken(jti string, expires time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.tokens[jti] = later(r.tokens[jti], expires)
}

func (r *Revocations) raiseUser(userID uuid.UUID, minVersion int64, expires time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	raise(r.users, userID, userMark{minVersion: minVersion, expires: expires})
}

// raise merges m into users: versions only go up and a mark only lives longer, so
// hearing a revocation twice, or out of order, changes nothing.
func raise(users map[uuid.UUID]userMark, userID uuid.UUID, m userMark) {
	cur, ok := users[userID]
	if !ok {
		users[userID] = m
		return
	}
	cur.minVersion = max(cur.minVersion, m.minVersion)
	cur.expires = later(cur.expires, m.expires)
	cur.corrupt = cur.corrupt || m.corrupt
	users[userID] = cur
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// prune drops the entries expired at now and returns how many remain.
func (r *Revocations) prune(now time.Time) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	for jti, exp := range r.tokens {
		if !now.Before(exp) {
			delete(r.tokens, jti)
		}
	}
	for id, m := range r.users {
		if !now.Before(m.expires) {
			delete(r.users, id)
		}
	}
	return len(r.tokens) + len(r.users)
}

// Run keeps the mirror in step until ctx ends: it subscribes, resyncs and follows the
// channel, and after any failure marks itself out of step and starts over with a
// backoff. It never fails: while out of step, Denied asks Redis.
func (r *Revocations) Run(ctx context.Context) {
	backoff := revocationsMinBackoff
	lost := false
	for {
		inStep, err := r.follow(ctx, lost)
		r.freshUntil.Store(0)
		if ctx.Err() != nil {
			return
		}
		if inStep {
			backoff = revocationsMinBackoff
		}
		lost = true
		slog.Warn("revocations: out of step with Redis; checking it on every request until resynced",
			"error", err.Error(), "retryIn", backoff.String())
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		backoff = min(2*backoff, revocationsMaxBackoff)
	}
}

// follow runs one subscription: subscribe, resync, then apply messages and ping until
// something fails. inStep says whether it got as far as answering from memory.
func (r *Revocations) follow(ctx context.Context, lost bool) (inStep bool, err error) {
	ps := r.deny.rdb.Subscribe(ctx)
	defer ps.Close()
	// Closing the subscription is what interrupts a blocked receive when ctx ends.
	stop := context.AfterFunc(ctx, func() { _ = ps.Close() })
	defer stop()

	if err := ps.Subscribe(ctx, r.deny.channel); err != nil {
		return false, fmt.Errorf("subscribe: %w", err)
	}
	if err := awaitSubscription(ctx, ps); err != nil {
		return false, err
	}
	// Subscribed first, so a revocation written from here on is on the channel, and one
	// written before is among the keys.
	if err := r.resync(ctx); err != nil {
		return false, err
	}

	var (
		seq       int
		nonce     string        // the payload of the ping awaiting its answer; "" if none
		pingSent  time.Duration // since start, when it was sent
		nextPing  time.Duration
		nextPrune = time.Since(r.start) + revocationsPruneEvery
	)
	for {
		now := time.Since(r.start)
		if nonce == "" && now >= nextPing {
			seq++
			nonce = "revocations-" + strconv.Itoa(seq)
			// The time is taken before sending: what Redis published before it answers
			// comes first on this connection.
			pingSent = now
			if err := ps.Ping(ctx, nonce); err != nil {
				return inStep, fmt.Errorf("ping: %w", err)
			}
		}
		if nonce != "" && now-pingSent > RevocationsMaxStale {
			return inStep, fmt.Errorf("ping unanswered for %v", now-pingSent)
		}
		if now >= nextPrune {
			r.prune(time.Now())
			nextPrune = now + revocationsPruneEvery
			// A Redis emptied without a restart (FLUSHALL, failover to an empty
			// replica) keeps the subscription: found here, it is restored by a resync.
			// The mirror lost nothing meanwhile, and Denied asks PostgreSQL.
			if r.deny.ledger != nil {
				epoch, err := r.deny.restoredEpoch(ctx)
				if err != nil {
					return inStep, err
				}
				if epoch == "" {
					return inStep, errors.New("redis lost its state: restoring and resyncing")
				}
			}
		}

		// Wake for the next ping, or to give up on the outstanding one.
		wait := nextPing - now
		if nonce != "" {
			wait = pingSent + RevocationsMaxStale - now
		}
		msg, err := ps.ReceiveTimeout(ctx, max(wait, time.Millisecond))
		if err != nil {
			if isTimeout(err) {
				continue
			}
			return inStep, fmt.Errorf("receive: %w", err)
		}
		switch m := msg.(type) {
		case *redis.Message:
			e, err := parseEvent(m.Payload)
			if err != nil {
				// A revocation it cannot read may be one it misses: resync instead.
				return inStep, err
			}
			r.apply(e, time.Now())
		case *redis.Pong:
			// Any other payload means the stream is not what was sent: a read cut by
			// a timeout, say. Starting over is the safe answer.
			if nonce == "" || m.Payload != nonce {
				return inStep, fmt.Errorf("unexpected pong %q", m.Payload)
			}
			r.freshUntil.Store(int64(pingSent + RevocationsMaxStale))
			if !inStep && lost {
				slog.Info("revocations: in step with Redis again")
			}
			inStep = true
			nonce, nextPing = "", pingSent+revocationsPing
		case *redis.Subscription:
			// go-redis reconnected and subscribed again under us: what was published
			// in between is lost.
			return inStep, fmt.Errorf("subscription renewed (%s): resyncing", m)
		default:
			return inStep, fmt.Errorf("unexpected %T on the subscription", msg)
		}
	}
}

func awaitSubscription(ctx context.Context, ps *redis.PubSub) error {
	msg, err := ps.ReceiveTimeout(ctx, revocationsSubscribeTimeout)
	if err != nil {
		return fmt.Errorf("await subscription: %w", err)
	}
	if s, ok := msg.(*redis.Subscription); !ok || s.Kind != "subscribe" {
		return fmt.Errorf("await subscription: got %v", msg)
	}
	return nil
}

// resync replaces the mirror with every revocation key in Redis. Expiries are counted
// from after the read, so never earlier than Redis's. A durable denylist's Redis is first
// restored from PostgreSQL if it lost its state, and the keys count only if Redis is
// still at the same restore after the scan: a restart during it would have emptied it.
func (r *Revocations) resync(ctx context.Context) error {
	var epoch string
	if r.deny.ledger != nil {
		var err error
		if epoch, err = r.deny.restore(ctx); err != nil {
			return fmt.Errorf("resync: %w", err)
		}
	}
	tokens := make(map[string]time.Time)
	users := make(map[uuid.UUID]userMark)
	var cursor uint64
	for {
		keys, next, err := r.deny.rdb.Scan(ctx, cursor, denyKeys, revocationsScanBatch).Result()
		if err != nil {
			return fmt.Errorf("resync: scan: %w", err)
		}
		if err := r.load(ctx, keys, tokens, users); err != nil {
			return err
		}
		if cursor = next; cursor == 0 {
			break
		}
	}
	if r.deny.ledger != nil {
		now, err := r.deny.restoredEpoch(ctx)
		if err != nil {
			return fmt.Errorf("resync: %w", err)
		}
		if now != epoch {
			return fmt.Errorf("resync: Redis lost its state during the scan (restored at %q, now %q)", epoch, now)
		}
	}
	r.mu.Lock()
	r.tokens, r.users = tokens, users
	r.mu.Unlock()
	return nil
}

// load reads the values and lifetimes of keys into tokens and users.
func (r *Revocations) load(ctx context.Context, keys []string, tokens map[string]time.Time, users map[uuid.UUID]userMark) error {
	if len(keys) == 0 {
		return nil
	}
	gets := make([]*redis.StringCmd, len(keys))
	ttls := make([]*redis.DurationCmd, len(keys))
	_, err := r.deny.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, k := range keys {
			gets[i], ttls[i] = p.Get(ctx, k), p.PTTL(ctx, k)
		}
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return fmt.Errorf("resync: read: %w", err)
	}
	now := time.Now()
	for i, k := range keys {
		val, err := gets[i].Result()
		if errors.Is(err, redis.Nil) {
			continue // expired since the scan
		}
		if err != nil {
			return fmt.Errorf("resync: read %s: %w", k, err)
		}
		ttl, err := ttls[i].Result()
		if err != nil {
			return fmt.Errorf("resync: read %s: %w", k, err)
		}
		var expires time.Time
		switch ttl {
		case -2: // expired between the two reads
			continue
		case -1: // no expiry is not something the Denylist writes; keep the mark
			expires = now.Add(100 * 365 * 24 * time.Hour)
		default:
			expires = now.Add(ttl)
		}
		switch {
		case strings.HasPrefix(k, tokenKeyPrefix):
			jti := strings.TrimPrefix(k, tokenKeyPrefix)
			tokens[jti] = later(tokens[jti], expires)
		case strings.HasPrefix(k, userKeyPrefix):
			userID, err := uuid.Parse(strings.TrimPrefix(k, userKeyPrefix))
			if err != nil {
				continue // not a key Denied could ever ask for
			}
			ver, err := parseVersion(val)
			raise(users, userID, userMark{minVersion: ver, expires: expires, corrupt: err != nil})
		}
	}
	return nil
}

func (r *Revocations) apply(e event, now time.Time) {
	expires := now.Add(e.ttl)
	switch e.kind {
	case eventToken:
		r.denyToken(e.id, expires)
	case eventUser:
		// parseEvent checked the id.
		r.raiseUser(uuid.MustParse(e.id), e.version, expires)
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// The kinds of event, named as the keys are.
const (
	eventToken = "jti"
	eventUser  = "user"
)

// event is one revocation as published: "<kind> <version> <ttl ms> <id>", id last so that
// it may hold anything. The lifetime travels as a TTL, not a time, so no two clocks are
// compared: a receiver counts it from when it heard, never earlier than Redis did.
type event struct {
	kind    string
	version int64
	ttl     time.Duration
	id      string
}

func (e event) String() string {
	return e.kind + " " + strconv.FormatInt(e.version, 10) + " " + strconv.FormatInt(e.ttl.Milliseconds(), 10) + " " + e.id
}

func parseEvent(s string) (event, error) {
	f := strings.SplitN(s, " ", 4)
	if len(f) != 4 || f[3] == "" || (f[0] != eventToken && f[0] != eventUser) {
		return event{}, fmt.Errorf("revocation event %q: not <kind> <version> <ttl ms> <id>", s)
	}
	ver, err := strconv.ParseInt(f[1], 10, 64)
	if err != nil {
		return event{}, fmt.Errorf("revocation event %q: version: %w", s, err)
	}
	ms, err := strconv.ParseInt(f[2], 10, 64)
	if err != nil {
		return event{}, fmt.Errorf("revocation event %q: ttl: %w", s, err)
	}
	if f[0] == eventUser {
		if _, err := uuid.Parse(f[3]); err != nil {
			return event{}, fmt.Errorf("revocation event %q: user id: %w", s, err)
		}
	}
	return event{kind: f[0], version: ver, ttl: time.Duration(ms) * time.Millisecond, id: f[3]}, nil
}
