// Package authtest holds checks the tests of revocation share across domains.
package authtest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/fault"
)

// NeverAccepted verifies token with v until it has been checked once with done holding
// before the check (for a mirror: answering from memory), failing the test if it is ever
// accepted: refused as revoked, or 503 while nothing can answer, are both fine.
func NeverAccepted(t testing.TB, v *auth.Verifier, token, what string, done func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		settled := done()
		_, err := v.Verify(context.Background(), token)
		if err == nil {
			t.Fatalf("%s: a revoked token was accepted", what)
		}
		if !errors.Is(err, auth.ErrTokenRevoked) && !errors.Is(err, fault.ErrUnavailable) {
			t.Fatalf("%s: Verify = %v, want revoked or unavailable", what, err)
		}
		if settled {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not settled within 30s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
