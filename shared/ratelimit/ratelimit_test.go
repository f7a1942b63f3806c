package ratelimit_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"

	"github.com/8949market/market/shared/ratelimit"
	"github.com/8949market/market/shared/testenv"
)

// key is unique per test, so tests share the Redis without sharing counts.
func key(t *testing.T) string { return "test:" + t.Name() + ":" + uuid.NewString() }

func hit(t *testing.T, l *ratelimit.Limiter, k string, limit int64, window time.Duration) ratelimit.Result {
	t.Helper()
	res, err := l.Hit(context.Background(), k, limit, window)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func peek(t *testing.T, l *ratelimit.Limiter, k string, limit int64) ratelimit.Result {
	t.Helper()
	res, err := l.Peek(context.Background(), k, limit)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestHitAllowsUpToTheLimit(t *testing.T) {
	t.Parallel()
	l := ratelimit.New(testenv.Redis(t))
	k := key(t)
	const limit, window = 3, time.Minute
	for i := int64(1); i <= limit; i++ {
		if res := hit(t, l, k, limit, window); res.Count != i || !res.Allowed {
			t.Errorf("hit %d = %+v, want counted and allowed", i, res)
		}
	}
	for i := int64(limit + 1); i <= limit+2; i++ {
		res := hit(t, l, k, limit, window)
		if res.Count != i || res.Allowed {
			t.Errorf("hit %d = %+v, want counted and refused", i, res)
		}
		if res.RetryAfter < time.Second || res.RetryAfter > window {
			t.Errorf("hit %d: RetryAfter = %v, want 1s to %v", i, res.RetryAfter, window)
		}
	}
}

func TestWindowExpires(t *testing.T) {
	t.Parallel()
	l := ratelimit.New(testenv.Redis(t))
	k := key(t)
	const window = 1500 * time.Millisecond
	began := time.Now()
	if res := hit(t, l, k, 1, window); !res.Allowed {
		t.Fatalf("first hit = %+v", res)
	}
	res := hit(t, l, k, 1, window)
	if res.Allowed || res.RetryAfter < time.Second || res.RetryAfter > window {
		t.Fatalf("second hit = %+v, want refused with RetryAfter 1s to %v", res, window)
	}
	// Poll without counting until the window, started by the first hit, ends.
	testenv.Eventually(t, 5*time.Second, "the window ended", func() bool { return peek(t, l, k, 1).Allowed })
	if elapsed := time.Since(began); elapsed < window-100*time.Millisecond {
		t.Errorf("allowed again after %v, before the %v window ended", elapsed, window)
	}
	if res := hit(t, l, k, 1, window); !res.Allowed || res.Count != 1 {
		t.Errorf("hit in the next window = %+v, want the first of a new count", res)
	}
}

func TestPeekDoesNotCount(t *testing.T) {
	t.Parallel()
	l := ratelimit.New(testenv.Redis(t))
	k := key(t)
	const limit, window = 2, time.Minute
	if res := peek(t, l, k, limit); res.Count != 0 || !res.Allowed {
		t.Errorf("peek at a new key = %+v", res)
	}
	hit(t, l, k, limit, window)
	for range 3 {
		if res := peek(t, l, k, limit); res.Count != 1 || !res.Allowed {
			t.Errorf("peek after one hit = %+v, want count 1, one more allowed", res)
		}
	}
	if res := hit(t, l, k, limit, window); res.Count != 2 || !res.Allowed {
		t.Errorf("second hit = %+v, want count 2 and allowed (peeks not counted)", res)
	}
	// At the limit: the hit was allowed, but one more would not be.
	res := peek(t, l, k, limit)
	if res.Count != 2 || res.Allowed || res.RetryAfter < time.Second || res.RetryAfter > window {
		t.Errorf("peek at the limit = %+v", res)
	}
}

func TestReset(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	l := ratelimit.New(testenv.Redis(t))
	k := key(t)
	for range 3 {
		hit(t, l, k, 2, time.Minute)
	}
	if err := l.Reset(ctx, k); err != nil {
		t.Fatal(err)
	}
	if res := peek(t, l, k, 2); res.Count != 0 || !res.Allowed {
		t.Errorf("peek after Reset = %+v", res)
	}
	if res := hit(t, l, k, 2, time.Minute); res.Count != 1 || !res.Allowed {
		t.Errorf("hit after Reset = %+v", res)
	}
	if err := l.Reset(ctx, key(t)); err != nil {
		t.Errorf("Reset of an unknown key = %v", err)
	}
}

func TestKeysAreIndependent(t *testing.T) {
	t.Parallel()
	l := ratelimit.New(testenv.Redis(t))
	a, b := key(t), key(t)
	for range 3 {
		hit(t, l, a, 2, time.Minute)
	}
	if res := peek(t, l, a, 2); res.Allowed {
		t.Errorf("a = %+v, want refused", res)
	}
	if res := hit(t, l, b, 2, time.Minute); res.Count != 1 || !res.Allowed {
		t.Errorf("b = %+v, want its own first hit", res)
	}
}

func TestConcurrentHitsCountExactly(t *testing.T) {
	t.Parallel()
	l := ratelimit.New(testenv.Redis(t))
	k := key(t)
	const n, limit = 50, 20
	start := make(chan struct{})
	results := make([]ratelimit.Result, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			results[i], errs[i] = l.Hit(context.Background(), k, limit, time.Minute)
		})
	}
	close(start)
	wg.Wait()
	counts := make([]int64, 0, n)
	allowed := 0
	for i, res := range results {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		counts = append(counts, res.Count)
		if res.Allowed {
			allowed++
		}
	}
	// Every hit got its own count: 1 to 50, each once.
	slices.Sort(counts)
	for i, c := range counts {
		if c != int64(i+1) {
			t.Fatalf("counts = %v, want 1..%d each once", counts, n)
		}
	}
	if allowed != limit {
		t.Errorf("%d allowed, want %d", allowed, limit)
	}
	if res := peek(t, l, k, limit); res.Count != n {
		t.Errorf("count after %d concurrent hits = %d", n, res.Count)
	}
}

func TestRedisDown(t *testing.T) {
	t.Parallel()
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", DialTimeout: 200 * time.Millisecond, MaxRetries: -1})
	t.Cleanup(func() { _ = rdb.Close() })
	l := ratelimit.New(rdb)
	ctx := context.Background()
	if res, err := l.Hit(ctx, "k", 1, time.Minute); err == nil {
		t.Errorf("Hit with Redis down = %+v, want an error", res)
	}
	if res, err := l.Peek(ctx, "k", 1); err == nil {
		t.Errorf("Peek with Redis down = %+v, want an error", res)
	}
	if err := l.Reset(ctx, "k"); err == nil {
		t.Error("Reset with Redis down succeeded")
	}
}
