// Command outbox-lag reports how far the outbox relay is behind, for monitoring: it logs
// one structured line with the age of the oldest unpublished outbox row and the number of
// pending rows, then exits. Cloud Scheduler runs it every minute as a Cloud Run
// job (infra/terraform/monitoring.tf), and a log-based metric turns the line into the
// outbox-lag alert. A relay that is down publishes no metric of its own, which is why the
// measure is taken from the database, outside the relay.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/8949market/market/shared/config"
	"github.com/8949market/market/shared/postgres"
	"github.com/8949market/market/shared/telemetry"
)

func main() {
	if err := run(context.Background()); err != nil {
		slog.Error("outbox lag probe failed", "error", err.Error())
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	cfg, err := config.Load()
	if err != nil {
		return err
	}
	telemetry.Setup(cfg)
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	pool, err := postgres.Connect(ctx, cfg.DatabaseURL, 1)
	if err != nil {
		return err
	}
	defer pool.Close()
	lag, err := measure(ctx, pool)
	if err != nil {
		return err
	}
	// The message and field names are what the log-based metric filters and extracts.
	slog.InfoContext(ctx, "outbox lag", "outboxLagSeconds", lag.Oldest.Seconds(), "outboxPending", lag.Pending)
	return nil
}

// Lag is the relay's backlog at one instant.
type Lag struct {
	Oldest  time.Duration // age of the oldest PENDING row; 0 when none is pending
	Pending int64
}

// measure reads the backlog in one statement over the pending rows only, which the
// outbox's partial index holds (few while the relay keeps up), so the probe costs the same
// however many sent rows wait for pruning. Dead letters are counted where they are parked
// (the dead-letter alerts), not here.
func measure(ctx context.Context, pool *pgxpool.Pool) (Lag, error) {
	var l Lag
	var oldest float64
	err := pool.QueryRow(ctx, `
		SELECT coalesce(extract(epoch FROM clock_timestamp() - min(created_at)), 0)::float8, count(*)
		  FROM messaging.outbox
		 WHERE status = 'PENDING'`).Scan(&oldest, &l.Pending)
	if err != nil {
		return Lag{}, fmt.Errorf("measure outbox lag: %w", err)
	}
	l.Oldest = time.Duration(oldest * float64(time.Second))
	return l, nil
}
