package chattest

import (
	"context"
	"net/http"
	"sync"
	"testing"

	chatserver "github.com/8949market/market/chat-server"
	"github.com/8949market/market/shared/config"
	"github.com/8949market/market/shared/devstack/stacktest"
	"github.com/8949market/market/shared/platform"
	"github.com/8949market/market/shared/serve"
	"github.com/8949market/market/shared/testenv"
)

// Start runs the platform with its configuration changed by set first, e.g. lower chat
// limits.
func Start(t testing.TB, set func(*config.Config)) *stacktest.Stack {
	t.Helper()
	cfg, signer := testenv.Config(t)
	set(&cfg)
	return stacktest.StartWith(t, cfg, signer)
}

// Unlimited lifts the per-connection frame rate, for tests that send in bulk.
func Unlimited(cfg *config.Config) {
	cfg.ChatMessagesPerSecond, cfg.ChatBurst = 1e6, 1e6
}

// Replica is a second chat server on a stack's PostgreSQL and Redis, with a kit of its
// own, as another container of the same service is.
type Replica struct {
	// URL is the replica's base (http://host:port).
	URL string

	cancel context.CancelFunc
	done   chan error
	kit    *platform.Kit
	once   sync.Once
	err    error
}

// StartReplica starts a chat server beside st's, ready when it returns; it stops when the
// test ends, if Stop has not stopped it before.
func StartReplica(t testing.TB, st *stacktest.Stack) *Replica {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	kit, err := platform.New(ctx, st.Config)
	if err != nil {
		cancel()
		t.Fatalf("chattest: replica kit: %v", err)
	}
	cs := chatserver.New(kit)
	srv, err := serve.Listen("127.0.0.1:0", cs.Handler())
	if err != nil {
		cs.Shutdown(ctx)
		kit.Close()
		cancel()
		t.Fatalf("chattest: replica listen: %v", err)
	}
	r := &Replica{URL: srv.URL(), cancel: cancel, done: make(chan error, 1), kit: kit}
	go func() { r.done <- cs.Run(ctx, srv, st.Config.ShutdownTimeout) }()
	t.Cleanup(func() {
		if err := r.Stop(); err != nil {
			t.Errorf("chattest: replica stop: %v", err)
		}
	})
	testenv.Eventually(t, Wait, "replica healthy", func() bool {
		res, err := http.Get(r.URL + "/healthz")
		if err != nil {
			return false
		}
		_ = res.Body.Close()
		return res.StatusCode == http.StatusOK
	})
	return r
}

// Stop shuts the replica down as SIGTERM does (stop accepting, tell clients to reconnect,
// drain) and returns what its Run returned. It may be called again.
func (r *Replica) Stop() error {
	r.once.Do(func() {
		r.cancel()
		r.err = <-r.done
		r.kit.Close()
	})
	return r.err
}
