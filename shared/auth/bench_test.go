package auth_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/testenv"
)

// BenchmarkVerify is the full cost of verifying an access token: parsing, the Ed25519
// signature and one Redis round trip to the denylist.
func BenchmarkVerify(b *testing.B) {
	f := newFixture(b)
	benchmarkVerify(b, f.v, sign(b, f.signer, accessClaims(uuid.New(), time.Now())))
}

// BenchmarkVerifyNoDenylist is the same without Redis: parsing and signature only.
func BenchmarkVerifyNoDenylist(b *testing.B) {
	key := testenv.Key(b)
	v := auth.NewVerifier(key.PublicKeys(), allowAll{})
	benchmarkVerify(b, v, sign(b, auth.NewSigner(key), accessClaims(uuid.New(), time.Now())))
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
