package auth

import (
	"context"
	"time"

	"github.com/google/uuid"
)

// InMemory is Denied answered from memory alone; ok is false when the mirror is out of
// step and Denied would ask Redis.
func (r *Revocations) InMemory(jti string, userID uuid.UUID, ver int64) (denied, ok bool) {
	return r.lookup(time.Now(), jti, userID, ver)
}

// Prune drops the entries expired at now and returns how many remain.
func (r *Revocations) Prune(now time.Time) int { return r.prune(now) }

// HoldsToken reports whether the mirror holds an entry for jti, expired or not.
func (r *Revocations) HoldsToken(jti string) bool {
	r.mu.RLock()
	defer r.mu.RUnlock()
	_, ok := r.tokens[jti]
	return ok
}

// Restore is restore: it copies the durable record into Redis unless Redis is marked
// restored, and returns the epoch Redis is restored at.
func (d *Denylist) Restore(ctx context.Context) (string, error) { return d.restore(ctx) }

// FinishRestore runs the last step of a restore begun with epoch.
func (d *Denylist) FinishRestore(ctx context.Context, epoch string) (string, error) {
	return finishRestore.Run(ctx, d.rdb, []string{restoringKey, restoredKey}, epoch).Text()
}

// The restore keys, for tests that play a restart in the middle of a restore.
const (
	RestoredKey  = restoredKey
	RestoringKey = restoringKey
)
