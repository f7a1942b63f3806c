package chatserver_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"

	chatserver "github.com/8949market/market/chat-server"
	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/chat/chattest"
	"github.com/8949market/market/shared/events"
	"github.com/8949market/market/shared/platform"
	"github.com/8949market/market/shared/testenv"
)

// syncBuffer is a log destination the server's goroutines and the test share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) lines() []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []map[string]any
	for l := range strings.SplitSeq(strings.TrimSpace(s.b.String()), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(l), &m) == nil {
			out = append(out, m)
		}
	}
	return out
}

// A hosted delivery is one request log line (log-based metrics count each line), whether
// it is refused or consumed. Not parallel: it swaps the process's logger.
func TestHostedDeliveryLoggedOnce(t *testing.T) {
	var logs syncBuffer
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewJSONHandler(&logs, nil)))
	t.Cleanup(func() { slog.SetDefault(prev) })

	cfg, _ := testenv.Config(t)
	kit, err := platform.New(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(kit.Close)
	cs := chatserver.New(kit)
	srv := httptest.NewServer(cs.Handler())
	t.Cleanup(srv.Close)
	t.Cleanup(func() { cs.Shutdown(t.Context()) })

	d := chattest.Trade(auth.Identity{UserID: uuid.New(), Nickname: "buyer"}, auth.Identity{UserID: uuid.New(), Nickname: "seller"})
	raw, _ := json.Marshal(d)
	for _, tc := range []struct {
		name, query string
		status      int
	}{
		{"refused", "", http.StatusUnauthorized},
		{"consumed", "?token=" + cfg.PushToken, http.StatusOK},
	} {
		req, _ := http.NewRequest("POST", srv.URL+"/internal/functions/"+chattest.TradeCreated+tc.query, bytes.NewReader(raw))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("ce-specversion", "1.0")
		req.Header.Set("ce-id", uuid.NewString())
		req.Header.Set("ce-type", events.TradeCreated)
		req.Header.Set("ce-source", "trades")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = res.Body.Close()
		if res.StatusCode != tc.status {
			t.Fatalf("%s: status %d, want %d", tc.name, res.StatusCode, tc.status)
		}
	}
	var requests []string
	for _, l := range logs.lines() {
		if l["msg"] == "request" {
			requests = append(requests, l["function"].(string))
		}
	}
	if len(requests) != 2 || requests[0] != chattest.TradeCreated || requests[1] != chattest.TradeCreated {
		t.Fatalf("request log lines %v, want one per delivery, named for the function", requests)
	}
}
