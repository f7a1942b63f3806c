package devstack_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/devstack"
	"github.com/8949market/market/shared/devstack/stacktest"
	"github.com/8949market/market/shared/testenv"
)

func TestPlatformRoutes(t *testing.T) {
	t.Parallel()
	st := stacktest.Start(t)

	t.Run("healthz once ready", func(t *testing.T) {
		t.Parallel()
		res := st.Do(t, "GET", "/healthz", nil, "")
		if res.Status != 200 {
			t.Fatalf("status %d: %s", res.Status, res.Body)
		}
		var data struct{ Status string }
		res.Data(t, &data)
		if data.Status != "ok" {
			t.Errorf("status = %q", data.Status)
		}
	})

	t.Run("platform info shows the wiring to administrators", func(t *testing.T) {
		t.Parallel()
		res := st.Do(t, "GET", "/api/v1/platform/info", nil, st.Admin(t).Access)
		if res.Status != 200 {
			t.Fatalf("status %d: %s", res.Status, res.Body)
		}
		var info struct {
			Service   string
			Backbone  string
			Functions int
		}
		res.Data(t, &info)
		if info.Service != "8949-market" || info.Backbone == "" || info.Functions < 4 {
			t.Errorf("info = %+v", info)
		}
	})

	t.Run("jwks publishes the verification key", func(t *testing.T) {
		t.Parallel()
		res := st.Do(t, "GET", "/api/v1/auth/jwks", nil, "")
		if res.Status != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/jwk-set+json") {
			t.Fatalf("status %d, type %q", res.Status, res.Header.Get("Content-Type"))
		}
		var set auth.JWKS
		if err := json.Unmarshal(res.Body, &set); err != nil {
			t.Fatal(err)
		}
		if len(set.Keys) != 1 || set.Keys[0].Kid != st.Signer.Kid() || set.Keys[0].D != "" {
			t.Errorf("keys = %+v, want the one public key %s", set.Keys, st.Signer.Kid())
		}
		keys, err := auth.ParsePublicKeys(string(res.Body))
		if err != nil || len(keys) != 1 {
			t.Errorf("served set does not parse back: %v", err)
		}
	})

	t.Run("chat is proxied to chat-server", func(t *testing.T) {
		t.Parallel()
		res := st.Do(t, "GET", "/api/v1/chat/healthz", nil, "")
		if res.Status != 200 || !strings.Contains(string(res.Body), `"service":"chat-server"`) {
			t.Fatalf("status %d: %s", res.Status, res.Body)
		}
	})

	t.Run("unknown route is 404 C004", func(t *testing.T) {
		t.Parallel()
		res := st.Do(t, "GET", "/api/v1/nowhere", nil, "")
		if e := res.Error(t); res.Status != 404 || e.Code != "C004" || e.TraceID == "" {
			t.Fatalf("status %d: %+v", res.Status, e)
		}
	})

	t.Run("wrong method is 405 C005 with Allow", func(t *testing.T) {
		t.Parallel()
		res := st.Do(t, "DELETE", "/api/v1/products", nil, "")
		if e := res.Error(t); res.Status != 405 || e.Code != "C005" || res.Header.Get("Allow") != "GET, POST" {
			t.Fatalf("status %d, Allow %q: %+v", res.Status, res.Header.Get("Allow"), e)
		}
	})

	t.Run("trace id continues the caller's traceparent", func(t *testing.T) {
		t.Parallel()
		req, _ := http.NewRequest("GET", st.URL+"/api/v1/platform/info", nil)
		req.Header.Set("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var env struct{ TraceID string }
		if err := json.NewDecoder(res.Body).Decode(&env); err != nil {
			t.Fatal(err)
		}
		if env.TraceID != "4bf92f3577b34da6a3ce929d0e0e4736" || res.Header.Get("X-Trace-Id") != env.TraceID {
			t.Errorf("traceId = %q, header %q", env.TraceID, res.Header.Get("X-Trace-Id"))
		}
	})
}

// Stopping the stack right after a burst of writes loses no event: each product's
// event either reached its consumer (the reservation exists) or is still PENDING in the
// outbox for the next start. None is marked sent without having been delivered.
func TestStopLosesNoEvent(t *testing.T) {
	t.Parallel()
	cfg, signer := testenv.Config(t)
	ctx, cancel := context.WithCancel(context.Background())
	st, err := devstack.Start(ctx, devstack.Options{Config: cfg, Listen: "127.0.0.1:0", ChatListen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- st.Run(ctx) }()
	token, _, err := signer.Access(auth.Identity{UserID: uuid.New(), Username: "seller01", Nickname: "s", Role: auth.RoleUser}, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Timeout: 10 * time.Second}
	start := time.Now().Add(time.Hour).UTC()
	for i := range 30 {
		res := stacktest.Do(t, client, "POST", st.URL+"/api/v1/products", map[string]any{
			"name": fmt.Sprintf("item %d", i), "price": 1000,
			"startTime": start.Format(time.RFC3339), "endTime": start.Add(time.Hour).Format(time.RFC3339),
		}, token)
		if res.Status != 201 {
			t.Fatalf("create: %d %s", res.Status, res.Body)
		}
	}
	cancel() // Ctrl-C
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}

	db := testenv.Connect(t, cfg.DatabaseURL)
	var lost, pending, delivered int
	if err := db.QueryRow(context.Background(), `
		SELECT count(*) FILTER (WHERE o.status = 'SENT' AND r.id IS NULL),
		       count(*) FILTER (WHERE o.status = 'PENDING'),
		       count(*) FILTER (WHERE r.id IS NOT NULL)
		  FROM messaging.outbox o
		  LEFT JOIN reservations.reservations r ON r.product_id::text = o.aggregate_id
		 WHERE o.topic = 'product-created'`).Scan(&lost, &pending, &delivered); err != nil {
		t.Fatal(err)
	}
	t.Logf("after stop: %d delivered, %d pending, %d lost", delivered, pending, lost)
	if lost != 0 || delivered+pending != 30 {
		t.Fatalf("%d events sent but never delivered; %d delivered + %d pending of 30", lost, delivered, pending)
	}
}
