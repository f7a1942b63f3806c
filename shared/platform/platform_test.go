package platform_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/config"
	"github.com/8949market/market/shared/platform"
	"github.com/8949market/market/shared/testenv"
)

func newKit(t *testing.T, cfg config.Config) *platform.Kit {
	t.Helper()
	kit, err := platform.New(context.Background(), cfg)
	if err != nil {
		t.Fatalf("platform.New: %v", err)
	}
	t.Cleanup(kit.Close)
	return kit
}

func waitInStep(t *testing.T, kit *platform.Kit) {
	t.Helper()
	testenv.Eventually(t, 10*time.Second, "revocations mirror in step", kit.Revocations.Ready)
}

// refusedWithinBound polls until kit refuses token and fails if a check begun
// RevocationsMaxStale after the revocation was written still accepts it.
func refusedWithinBound(t *testing.T, kit *platform.Kit, token string, writtenAt time.Time) {
	t.Helper()
	bound := writtenAt.Add(auth.RevocationsMaxStale)
	for {
		late := time.Now().After(bound)
		_, err := kit.Verifier.Verify(context.Background(), token)
		if errors.Is(err, auth.ErrTokenRevoked) {
			return
		}
		if late {
			t.Fatalf("still %v %v after the revocation was written", err, auth.RevocationsMaxStale)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Functions of one process share a kit; two processes (two kits on one Redis) share
// revocations: a logout or an account revocation in one is refused by the other within
// the bound, and by the first at once.
func TestKitsShareRevocations(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cfg, signer := testenv.Config(t)
	a, b := newKit(t, cfg), newKit(t, cfg)
	waitInStep(t, a)
	waitInStep(t, b)

	issue := func(t *testing.T, userID uuid.UUID, ver int64) (string, auth.Identity) {
		t.Helper()
		tok, id, err := signer.Access(auth.Identity{UserID: userID, Username: "alice", Role: auth.RoleUser, Version: ver}, 15*time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		for _, kit := range []*platform.Kit{a, b} {
			if _, err := kit.Verifier.Verify(ctx, tok); err != nil {
				t.Fatalf("before the revocation: %v", err)
			}
		}
		return tok, id
	}
	tests := []struct {
		name   string
		revoke func(id auth.Identity) error
	}{
		// What auth-logout does.
		{"logout", func(id auth.Identity) error { return a.Denylist.DenyToken(ctx, id.TokenID, id.ExpiresAt) }},
		// What a password change, role change or deletion does.
		{"account revoked", func(id auth.Identity) error {
			return a.Denylist.RevokeUser(ctx, id.UserID, id.Version+1, cfg.AccessTokenTTL)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tok, id := issue(t, uuid.New(), 1)
			if err := tt.revoke(id); err != nil {
				t.Fatal(err)
			}
			writtenAt := time.Now()
			if _, err := a.Verifier.Verify(ctx, tok); !errors.Is(err, auth.ErrTokenRevoked) {
				t.Errorf("the revoking kit: Verify = %v, want ErrTokenRevoked at once", err)
			}
			refusedWithinBound(t, b, tok, writtenAt)
		})
	}
}

// A kit starts, and stops, while Redis is away: the durable record answers meanwhile.
func TestKitWithoutRedis(t *testing.T) {
	t.Parallel()
	cfg, signer := testenv.Config(t)
	cfg.RedisURL = "redis://127.0.0.1:1/15"
	kit, err := platform.New(context.Background(), cfg)
	if err != nil {
		t.Fatalf("platform.New with Redis away = %v, want a kit", err)
	}
	tok, _, err := signer.Access(auth.Identity{UserID: uuid.New(), Username: "alice", Role: auth.RoleUser}, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	// PostgreSQL holds every revocation too, so with Redis away it answers.
	if _, err := kit.Verifier.Verify(context.Background(), tok); err != nil {
		t.Errorf("Verify with Redis away and PostgreSQL up = %v, want the token accepted", err)
	}
	if !kit.Denylist.Durable() {
		t.Error("the kit's denylist is not durable")
	}
	if kit.Revocations.Ready() {
		t.Error("mirror in step with Redis away")
	}
	closed := make(chan struct{})
	go func() {
		kit.Close()
		close(closed)
	}()
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not return within 5s")
	}
}
