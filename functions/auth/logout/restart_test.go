package logout_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/devstack/stacktest"
	"github.com/8949market/market/shared/testenv"
	"github.com/8949market/market/shared/testenv/instance"
	"github.com/8949market/market/shared/users/usertest"
)

// Issue 15: Memorystore persists nothing, so Redis may come back empty. A token refused
// before that — logged out, from before a password change or a role change, or of a
// deleted account — stays refused through the restart and after it, over HTTP, on a stack
// with a Redis of its own. Before durable revocations every one answered 200 again once
// the stack's mirror had resynced to the empty Redis.
func TestRevocationsSurviveRedisRestart(t *testing.T) {
	t.Parallel()
	rs := instance.Redis(t)
	cfg, signer := testenv.Config(t)
	cfg.RedisURL = rs.URL()
	st := stacktest.StartWith(t, cfg, signer)
	master := usertest.BootstrapAdmin(t, st)

	tests := []struct {
		name   string
		revoke func(t *testing.T, u usertest.Account, access string)
	}{
		{"logout", func(t *testing.T, _ usertest.Account, access string) {
			logout(t, st, access)
		}},
		{"password change", func(t *testing.T, u usertest.Account, access string) {
			if res := st.Do(t, "PATCH", mePath, map[string]string{"password": "N3wSecret!x"}, access); res.Status != http.StatusOK {
				t.Fatalf("password change: status %d: %s", res.Status, res.Body)
			}
		}},
		{"role change", func(t *testing.T, u usertest.Account, _ string) {
			if res := st.Do(t, "PATCH", "/api/v1/users/"+u.ID.String(), map[string]string{"userRole": "MANAGER"}, master.Token); res.Status != http.StatusOK {
				t.Fatalf("role change: status %d: %s", res.Status, res.Body)
			}
		}},
		{"deletion", func(t *testing.T, u usertest.Account, access string) {
			if res := st.Do(t, "DELETE", "/api/v1/users/"+u.ID.String(), nil, access); res.Status != http.StatusOK {
				t.Fatalf("deletion: status %d: %s", res.Status, res.Body)
			}
		}},
	}
	revoked := make(map[string]string, len(tests)) // case → its refused access token
	for _, tt := range tests {
		u := usertest.NewAccount(t, st, auth.RoleUser, nil)
		access := st.Login(t, u.Username, u.Password).AccessToken
		tt.revoke(t, u, access)
		wantRefused(t, tt.name+" before the restart", st.Do(t, "GET", mePath, nil, access), msgRevoked)
		revoked[tt.name] = access
	}
	kept := usertest.NewAccount(t, st, auth.RoleUser, nil)

	rs.Stop()
	rs.Start()

	// Until the stack's mirror has restored Redis and resynced (Redis holds every mark
	// again and the mirror answers from memory), every request is refused: 401, or 503
	// C014 while nothing could answer, never 200.
	opts, err := redis.ParseURL(rs.URL())
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(opts)
	t.Cleanup(func() { _ = rdb.Close() })
	bare := auth.NewDenylist(rdb)
	restored := func() bool {
		for _, access := range revoked {
			id, err := st.Kit.Verifier.VerifySignature(access)
			if err != nil {
				t.Fatal(err)
			}
			if denied, err := bare.Denied(context.Background(), id.TokenID, id.UserID, id.Version); err != nil || !denied {
				return false
			}
		}
		return st.Kit.Revocations.Ready()
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		settled := restored()
		for name, access := range revoked {
			res := st.Do(t, "GET", mePath, nil, access)
			if res.Status == http.StatusOK {
				t.Fatalf("%s after the restart: accepted again", name)
			}
			switch e := res.Error(t); {
			case res.Status == http.StatusUnauthorized && e.Code == "C002":
			case res.Status == http.StatusServiceUnavailable && e.Code == "C014":
			default:
				t.Fatalf("%s after the restart: status %d code %s, want 401 C002 (or 503 C014 meanwhile)", name, res.Status, e.Code)
			}
		}
		if settled {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the stack did not restore its revocations within 30s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	for name, access := range revoked {
		wantRefused(t, name+" once restored", st.Do(t, "GET", mePath, nil, access), msgRevoked)
	}
	if res := st.Do(t, "GET", mePath, nil, kept.Token); res.Status != http.StatusOK {
		t.Errorf("an unrevoked token after the restart: status %d: %s", res.Status, res.Body)
	}
}
