package auth_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/testenv"
)

// BenchmarkVerify is what the middleware pays per request for a token it has seen
// before (a client reuses its access token until it expires): the verified-token cache
// hit and one Redis round trip to the denylist.
func BenchmarkVerify(b *testing.B) {
	f := newFixture(b)
	benchmarkVerify(b, f.v, sign(b, f.signer, accessClaims(uuid.New(), time.Now())))
}

// BenchmarkVerifyFirstUse is the same for a token never seen before: parsing, the
// Ed25519 signature and the denylist round trip.
func BenchmarkVerifyFirstUse(b *testing.B) {
	f := newFixture(b)
	tokens := make([]string, b.N)
	for i := range tokens {
		tokens[i] = sign(b, f.signer, accessClaims(uuid.New(), time.Now()))
	}
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := f.v.Verify(ctx, tokens[i]); err != nil {
			b.Fatalf("Verify: %v", err)
		}
	}
}

// BenchmarkVerifyNoDenylist is the first-use cost without Redis: parsing and signature
// only, the floor under both benchmarks above.
func BenchmarkVerifyNoDenylist(b *testing.B) {
	key := testenv.Key(b)
	signer := auth.NewSigner(key)
	v := auth.NewVerifier(key.PublicKeys(), allowAll{})
	tokens := make([]string, b.N)
	for i := range tokens {
		tokens[i] = sign(b, signer, accessClaims(uuid.New(), time.Now()))
	}
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := v.Verify(ctx, tokens[i]); err != nil {
			b.Fatalf("Verify: %v", err)
		}
	}
}

func benchmarkVerify(b *testing.B, v *auth.Verifier, token string) {
	ctx := context.Background()
	if _, err := v.Verify(ctx, token); err != nil {
		b.Fatalf("Verify: %v", err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(ctx, token); err != nil {
			b.Fatalf("Verify: %v", err)
		}
	}
}
