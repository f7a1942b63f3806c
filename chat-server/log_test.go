package chatserver_test

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/google/uuid"

	chatserver "github.com/8949market/market/chat-server"
	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/chat/chattest"
	"github.com/8949market/market/shared/devstack/stacktest"
	"github.com/8949market/market/shared/events"
	"github.com/8949market/market/shared/platform"
	"github.com/8949market/market/shared/testenv"
)

// A hosted delivery is one request log line (log-based metrics count each line), whether
// it is refused or consumed. Not parallel: it swaps the process's logger.
func TestHostedDeliveryLoggedOnce(t *testing.T) {
	var logs testenv.Output
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
	for _, tc := range []struct {
		name, query string
		status      int
	}{
		{"refused", "", http.StatusUnauthorized},
		{"consumed", "?token=" + cfg.PushToken, http.StatusOK},
	} {
		req, err := stacktest.EventRequest(t.Context(), srv.URL+"/internal/functions/"+chattest.TradeCreated+tc.query,
			events.TradeCreated, "trades", uuid.New(), d)
		if err != nil {
			t.Fatal(err)
		}
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
	for _, line := range logs.Lines() {
		var l map[string]any
		if json.Unmarshal([]byte(line), &l) == nil && l["msg"] == "request" {
			requests = append(requests, l["function"].(string))
		}
	}
	if len(requests) != 2 || requests[0] != chattest.TradeCreated || requests[1] != chattest.TradeCreated {
		t.Fatalf("request log lines %v, want one per delivery, named for the function", requests)
	}
}
