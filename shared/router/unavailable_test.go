package router_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/events"
	"github.com/8949market/market/shared/router"
	"github.com/8949market/market/shared/testenv"
	"github.com/8949market/market/shared/testenv/instance"
)

// A database that cannot be reached answers 503 C014, as a Redis outage does, to a REST
// call and to an event delivery (which is then retried, not acknowledged); once it is
// back, the same calls succeed. On a PostgreSQL server of the test's own: it is stopped,
// killed and started.
func TestDatabaseOutOfReach(t *testing.T) {
	t.Parallel()
	pg := instance.Postgres(t)
	cfg, signer := testenv.Config(t)
	cfg.DatabaseURL = pg.Migrated(t, "market")
	o := serve(t, cfg, signer, router.Options{})
	token := o.token(t, auth.RoleUser)

	search := func() response { return o.do(t, http.MethodGet, "/api/v1/products?size=1", bearer(token), nil) }
	deliver := func() response {
		data, _ := json.Marshal(events.TradeData{TradeID: uuid.New(), ProductID: uuid.New(), ReservationID: uuid.New()})
		h := http.Header{
			"Content-Type":   {"application/json"},
			"Ce-Specversion": {"1.0"},
			"Ce-Id":          {uuid.NewString()},
			"Ce-Type":        {events.TradeCompleted},
			"Ce-Source":      {events.SourceTrades},
		}
		return o.do(t, http.MethodPost, o.internalURL(t, "products-trade-completed"), h, data)
	}
	// up waits until both calls succeed again: a pool may hold a dead connection or two.
	up := func(t *testing.T) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for {
			s, d := search(), deliver()
			if s.Status == http.StatusOK && d.Status == http.StatusOK {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("not back: search %d %s, delivery %d %s", s.Status, s.Body, d.Status, d.Body)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	up(t)

	for _, tt := range []struct {
		name string
		cut  func()
	}{
		{"stopped", pg.Stop},
		{"killed", pg.Kill},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tt.cut()
			// Twice each: the first call may meet a pooled connection the server closed,
			// the second a refused connect.
			for range 2 {
				search().refused(t, http.StatusServiceUnavailable, "C014", "")
				deliver().refused(t, http.StatusServiceUnavailable, "C014", "")
			}
			pg.Start()
			up(t)
		})
	}
}
