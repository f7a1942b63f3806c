package auth_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"

	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/testenv"
	"github.com/8949market/market/shared/testenv/instance"
)

// BenchmarkVerify is what the middleware pays per request for a token it has seen
// before (a client reuses its access token until it expires), wired as platform.New
// wires it: the verified-token cache hit and the revocations mirror, in step, answering
// from memory.
func BenchmarkVerify(b *testing.B) {
	f := newFixture(b)
	benchmarkVerify(b, f.revs, f.v, sign(b, f.signer, accessClaims(uuid.New(), time.Now())))
}

// BenchmarkVerifyDurable is BenchmarkVerify on a durable denylist (revocations kept in
// PostgreSQL too), as platform.New should wire it: the seen-token path must not change.
func BenchmarkVerifyDurable(b *testing.B) {
	w := benchWorld(b)
	f := durableFixture(b, w, true)
	benchmarkVerify(b, f.revs, f.v, sign(b, f.signer, accessClaims(uuid.New(), time.Now())))
}

// BenchmarkVerifyDurableFallback is a seen token while the mirror is out of step and
// Redis is restored: one Redis round trip (the marks and the restore marker in one MGET).
func BenchmarkVerifyDurableFallback(b *testing.B) {
	w := benchWorld(b)
	durableFixture(b, w, true) // restores Redis, then keeps out of the way
	f := durableFixture(b, w, false)
	benchmarkVerify(b, nil, f.v, sign(b, f.signer, accessClaims(uuid.New(), time.Now())))
}

// BenchmarkVerifyDurableRecord is a seen token while Redis lost its state and nothing has
// restored it yet: the Redis round trip finds no marker, and PostgreSQL answers.
func BenchmarkVerifyDurableRecord(b *testing.B) {
	f := durableFixture(b, benchWorld(b), false)
	benchmarkVerify(b, nil, f.v, sign(b, f.signer, accessClaims(uuid.New(), time.Now())))
}

type benchDeployment struct {
	key   auth.SigningKey
	redis *instance.RedisServer
	db    *pgxpool.Pool
}

func benchWorld(b *testing.B) benchDeployment {
	return benchDeployment{key: testenv.Key(b), redis: instance.Redis(b), db: testenv.DB(b)}
}

// durableFixture is a process on w; with run, its mirror runs and is in step, without
// it the mirror never runs, so every check asks the denylist.
func durableFixture(b *testing.B, w benchDeployment, run bool) fixture {
	opts, err := redis.ParseURL(w.redis.URL())
	if err != nil {
		b.Fatal(err)
	}
	rdb := redis.NewClient(opts)
	b.Cleanup(func() { _ = rdb.Close() })
	deny := auth.NewDurableDenylist(rdb, w.db)
	var revs *auth.Revocations
	if run {
		revs = runRevocations(b, deny)
		waitInStep(b, revs)
	} else {
		revs = auth.NewRevocations(deny)
	}
	return fixture{key: w.key, signer: auth.NewSigner(w.key), deny: deny, revs: revs, v: auth.NewVerifier(w.key.PublicKeys(), revs)}
}

// BenchmarkVerifyFirstUse is the same for a token never seen before: parsing, the
// Ed25519 signature and the mirror.
func BenchmarkVerifyFirstUse(b *testing.B) {
	f := newFixture(b)
	benchmarkFirstUse(b, f.revs, f.signer, f.v)
}

// BenchmarkVerifyNoDenylist is the first-use cost without any revocation check: parsing
// and signature only, the floor under the first-use benchmarks.
func BenchmarkVerifyNoDenylist(b *testing.B) {
	key := testenv.Key(b)
	benchmarkFirstUse(b, nil, auth.NewSigner(key), auth.NewVerifier(key.PublicKeys(), allowAll{}))
}

// BenchmarkVerifyFallback is a seen token while the mirror is out of step (starting,
// resyncing, reconnecting): every request asks Redis, one round trip.
func BenchmarkVerifyFallback(b *testing.B) {
	f := fallbackFixture(b)
	benchmarkVerify(b, nil, f.v, sign(b, f.signer, accessClaims(uuid.New(), time.Now())))
}

// BenchmarkVerifyFallbackFirstUse is a new token while the mirror is out of step.
func BenchmarkVerifyFallbackFirstUse(b *testing.B) {
	f := fallbackFixture(b)
	benchmarkFirstUse(b, nil, f.signer, f.v)
}

// fallbackFixture is a fixture whose mirror never runs, so it is never in step.
func fallbackFixture(b *testing.B) fixture {
	key := testenv.Key(b)
	revs := auth.NewRevocations(auth.NewDenylist(testenv.Redis(b)))
	return fixture{key: key, signer: auth.NewSigner(key), revs: revs, v: auth.NewVerifier(key.PublicKeys(), revs)}
}

// inStep fails the benchmark if revs, when given, is not answering from memory: the
// figure would be the fallback's.
func inStep(b *testing.B, revs *auth.Revocations) {
	b.Helper()
	if revs != nil && !revs.Ready() {
		b.Fatal("revocations mirror out of step: the figure would be the fallback's")
	}
}

func benchmarkVerify(b *testing.B, revs *auth.Revocations, v *auth.Verifier, token string) {
	ctx := context.Background()
	if _, err := v.Verify(ctx, token); err != nil {
		b.Fatalf("Verify: %v", err)
	}
	inStep(b, revs)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(ctx, token); err != nil {
			b.Fatalf("Verify: %v", err)
		}
	}
	inStep(b, revs)
}

func benchmarkFirstUse(b *testing.B, revs *auth.Revocations, signer *auth.Signer, v *auth.Verifier) {
	tokens := make([]string, b.N)
	for i := range tokens {
		tokens[i] = sign(b, signer, accessClaims(uuid.New(), time.Now()))
	}
	inStep(b, revs)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := v.Verify(ctx, tokens[i]); err != nil {
			b.Fatalf("Verify: %v", err)
		}
	}
	b.StopTimer()
	inStep(b, revs)
}
