// Package authtest holds checks the tests of tokens and revocation share across domains.
package authtest

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
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

// Claims decodes the payload of a JWT without checking it, numbers kept exact
// (json.Number), for tests that look at what a token says.
func Claims(t testing.TB, token string) map[string]any {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("authtest: token has %d parts", len(parts))
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatalf("authtest: token payload: %v", err)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("authtest: token payload %s: %v", raw, err)
	}
	return m
}

// Family is the session (refresh-token family) id of a refresh token: the part before
// the dot, which access tokens of the session carry as sid.
func Family(refresh string) string {
	f, _, _ := strings.Cut(refresh, ".")
	return f
}
