package auth_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"

	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/fault"
	"github.com/8949market/market/shared/testenv"
)

// familyKey is the Redis hash a refresh-token family lives in (see session.go).
func familyKey(id string) string { return "auth:session:" + id }

const sessionTTL = 10 * time.Minute

func newSessions(t *testing.T) (*auth.Sessions, *redis.Client) {
	t.Helper()
	rdb := testenv.Redis(t)
	return auth.NewSessions(rdb, sessionTTL), rdb
}

// wantRefreshFault fails unless err is want exactly: both refresh faults are C002, so
// errors.Is alone cannot tell them apart; the message does.
func wantRefreshFault(t *testing.T, err error, want *fault.Error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("err = %v, want %v", err, want)
	}
	f, ok := fault.As(err)
	if !ok || f.Code != "C002" || f.Kind != fault.Unauthenticated || f.Message != want.Message {
		t.Fatalf("fault = %v, want %q", f, want.Message)
	}
}

func familyOf(t *testing.T, token string) (id, secret string) {
	t.Helper()
	id, secret, ok := strings.Cut(token, ".")
	if !ok || len(id) != 32 || strings.ToLower(id) != id || secret == "" {
		t.Fatalf("refresh token %q is not <32 lowercase hex>.<secret>", token)
	}
	return id, secret
}

func TestSessionStartRotate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _ := newSessions(t)
	userID := uuid.New()

	sess, tok, err := s.Start(ctx, userID, 7)
	if err != nil {
		t.Fatal(err)
	}
	id, _ := familyOf(t, tok)
	if sess.ID != id || sess.UserID != userID || sess.Version != 7 {
		t.Fatalf("Start = %+v, token %q", sess, tok)
	}
	seen := map[string]bool{tok: true}
	for i := range 3 {
		got, next, err := s.Rotate(ctx, tok)
		if err != nil {
			t.Fatalf("rotation %d: %v", i, err)
		}
		if got != sess {
			t.Errorf("rotation %d: session %+v, want %+v", i, got, sess)
		}
		if nextID, _ := familyOf(t, next); nextID != sess.ID || seen[next] {
			t.Errorf("rotation %d: token %q, want a new token of family %s", i, next, sess.ID)
		}
		seen[next] = true
		tok = next
	}

	// Another login of the same user is another family.
	other, otherTok, err := s.Start(ctx, userID, 7)
	if err != nil {
		t.Fatal(err)
	}
	if other.ID == sess.ID || strings.HasPrefix(otherTok, sess.ID) {
		t.Errorf("second Start reused family %s", sess.ID)
	}
}

func TestSessionReuseRevokesFamily(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("previous token", func(t *testing.T) {
		t.Parallel()
		s, rdb := newSessions(t)
		sess, first, err := s.Start(ctx, uuid.New(), 0)
		if err != nil {
			t.Fatal(err)
		}
		_, second, err := s.Rotate(ctx, first)
		if err != nil {
			t.Fatal(err)
		}
		_, _, err = s.Rotate(ctx, first)
		wantRefreshFault(t, err, auth.ErrRefreshReused)
		// The family is gone: the newest token, which the thief may hold, fails too.
		_, _, err = s.Rotate(ctx, second)
		wantRefreshFault(t, err, auth.ErrRefreshInvalid)
		if n, err := rdb.Exists(ctx, familyKey(sess.ID)).Result(); err != nil || n != 0 {
			t.Errorf("family key exists = %d, %v; want deleted", n, err)
		}
	})

	t.Run("older token after several rotations", func(t *testing.T) {
		t.Parallel()
		s, _ := newSessions(t)
		_, first, err := s.Start(ctx, uuid.New(), 0)
		if err != nil {
			t.Fatal(err)
		}
		tok := first
		for range 3 {
			if _, tok, err = s.Rotate(ctx, tok); err != nil {
				t.Fatal(err)
			}
		}
		_, _, err = s.Rotate(ctx, first)
		wantRefreshFault(t, err, auth.ErrRefreshReused)
		_, _, err = s.Rotate(ctx, tok)
		wantRefreshFault(t, err, auth.ErrRefreshInvalid)
	})

	// The family id is readable in access tokens (sid): a guessed secret is refused but
	// must not end the session, or anyone holding an access token could log its owner out.
	t.Run("forged secret for a known family", func(t *testing.T) {
		t.Parallel()
		s, _ := newSessions(t)
		sess, tok, err := s.Start(ctx, uuid.New(), 0)
		if err != nil {
			t.Fatal(err)
		}
		_, _, err = s.Rotate(ctx, sess.ID+".guessed")
		wantRefreshFault(t, err, auth.ErrRefreshInvalid)
		if _, _, err = s.Rotate(ctx, tok); err != nil {
			t.Errorf("rotate the real token after a forged one: %v", err)
		}
	})
}

func TestSessionEnd(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, rdb := newSessions(t)
	userID := uuid.New()
	ended, endedTok, err := s.Start(ctx, userID, 0)
	if err != nil {
		t.Fatal(err)
	}
	kept, keptTok, err := s.Start(ctx, userID, 0)
	if err != nil {
		t.Fatal(err)
	}

	if err := s.End(ctx, ended.ID); err != nil {
		t.Fatal(err)
	}
	_, _, err = s.Rotate(ctx, endedTok)
	wantRefreshFault(t, err, auth.ErrRefreshInvalid)
	if n, err := rdb.Exists(ctx, familyKey(ended.ID)).Result(); err != nil || n != 0 {
		t.Errorf("ended family key exists = %d, %v", n, err)
	}

	// Ending again, an unknown family or a malformed id is not an error and touches
	// nothing else.
	for _, id := range []string{ended.ID, auth.NewTokenID(), "", "not-an-id", strings.ToUpper(kept.ID), kept.ID + "0", "*", kept.ID[:31]} {
		if err := s.End(ctx, id); err != nil {
			t.Errorf("End(%q) = %v, want nil", id, err)
		}
	}
	if got, _, err := s.Rotate(ctx, keptTok); err != nil || got != kept {
		t.Errorf("the other session after End: %+v, %v", got, err)
	}
}

func TestSessionRotateRefusesMalformed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _ := newSessions(t)
	sess, tok, err := s.Start(ctx, uuid.New(), 0)
	if err != nil {
		t.Fatal(err)
	}
	_, secret := familyOf(t, tok)
	tests := []struct{ name, token string }{
		{"empty", ""},
		{"no dot", sess.ID + secret},
		{"only a dot", "."},
		{"no family", "." + secret},
		{"empty secret", sess.ID + "."},
		{"short family id", sess.ID[:31] + "." + secret},
		{"long family id", sess.ID + "0." + secret},
		{"family id not hex", strings.Repeat("g", 32) + "." + secret},
		{"uppercase family id", strings.ToUpper(sess.ID) + "." + secret},
		{"family id with a key pattern", strings.Repeat("*", 32) + "." + secret},
		{"unknown family", auth.NewTokenID() + "." + secret},
		{"an access token", "eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ4In0.c2ln"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, next, err := s.Rotate(ctx, tt.token)
			wantRefreshFault(t, err, auth.ErrRefreshInvalid)
			if next != "" {
				t.Errorf("refused rotation returned token %q", next)
			}
		})
	}
	// None of them disturbed the real family.
	if got, _, err := s.Rotate(ctx, tok); err != nil || got != sess {
		t.Errorf("Rotate(real token) after the refusals = %+v, %v", got, err)
	}
}

func TestSessionStoresNoSecret(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, rdb := newSessions(t)
	userID := uuid.New()
	sess, tok, err := s.Start(ctx, userID, 3)
	if err != nil {
		t.Fatal(err)
	}
	check := func(token string) {
		t.Helper()
		_, secret := familyOf(t, token)
		h, err := rdb.HGetAll(ctx, familyKey(sess.ID)).Result()
		if err != nil {
			t.Fatal(err)
		}
		if h["user"] != userID.String() || h["ver"] != "3" || h["cur"] == "" {
			t.Errorf("family hash = %v", h)
		}
		for field, v := range h {
			if v == secret || v == token || strings.Contains(v, secret) {
				t.Errorf("field %s holds the raw secret", field)
			}
		}
	}
	check(tok)
	_, next, err := s.Rotate(ctx, tok)
	if err != nil {
		t.Fatal(err)
	}
	check(next)
}

func TestSessionTTL(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, rdb := newSessions(t)
	sess, tok, err := s.Start(ctx, uuid.New(), 0)
	if err != nil {
		t.Fatal(err)
	}
	wantFresh := func(what string) {
		t.Helper()
		ttl, err := rdb.PTTL(ctx, familyKey(sess.ID)).Result()
		if err != nil {
			t.Fatal(err)
		}
		if ttl > sessionTTL || ttl < sessionTTL-5*time.Second {
			t.Errorf("%s: family TTL = %v, want about %v", what, ttl, sessionTTL)
		}
	}
	wantFresh("after Start")

	// Age the family, as if unused for a while: a rotation renews it.
	if err := rdb.PExpire(ctx, familyKey(sess.ID), 30*time.Second).Err(); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Rotate(ctx, tok); err != nil {
		t.Fatal(err)
	}
	wantFresh("after Rotate")
}

func TestSessionConcurrentRotate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _ := newSessions(t)
	_, tok, err := s.Start(ctx, uuid.New(), 0)
	if err != nil {
		t.Fatal(err)
	}
	const n = 10
	start := make(chan struct{})
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			_, _, errs[i] = s.Rotate(ctx, tok)
		})
	}
	close(start)
	wg.Wait()
	ok := 0
	for _, err := range errs {
		if err == nil {
			ok++
			continue
		}
		if f, isFault := fault.As(err); !isFault || f.Code != "C002" {
			t.Errorf("losing rotation = %v, want a C002 refresh fault", err)
		}
	}
	if ok != 1 {
		t.Errorf("%d of %d concurrent rotations of one token succeeded, want exactly 1", ok, n)
	}
}

func TestSessionRedisDown(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rdb := redis.NewClient(&redis.Options{
		Addr:         "127.0.0.1:1",
		DialTimeout:  200 * time.Millisecond,
		ReadTimeout:  200 * time.Millisecond,
		WriteTimeout: 200 * time.Millisecond,
		MaxRetries:   -1,
	})
	t.Cleanup(func() { _ = rdb.Close() })
	s := auth.NewSessions(rdb, sessionTTL)

	_, next, err := s.Rotate(ctx, auth.NewTokenID()+".secret")
	if f, ok := fault.As(err); !ok || f.Code != "C014" || f.Kind != fault.Unavailable {
		t.Errorf("Rotate with Redis down = %v, want C014", err)
	}
	if next != "" {
		t.Errorf("Rotate returned token %q", next)
	}
	if _, tok, err := s.Start(ctx, uuid.New(), 0); err == nil || tok != "" {
		t.Errorf("Start with Redis down = %q, %v; want an error", tok, err)
	}
	if err := s.End(ctx, auth.NewTokenID()); err == nil {
		t.Error("End with Redis down succeeded")
	}
	// A malformed token is refused before Redis is asked.
	_, _, err = s.Rotate(ctx, "malformed")
	wantRefreshFault(t, err, auth.ErrRefreshInvalid)
}
