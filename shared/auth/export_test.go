package auth

import (
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
