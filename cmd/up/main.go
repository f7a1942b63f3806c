// Command up runs the platform locally in its deployed shape (make up): every function
// as a process of its own behind an API Gateway stand-in, the relay and the chat server
// as their own processes, the backbone as deployed (the Pub/Sub emulator with push
// subscriptions, or a standalone Kafka broker with the relay's bridge) and Cloud
// Scheduler's calls, all wired from infra/terraform/functions.json as Terraform wires
// them. Ctrl-C stops every process with SIGTERM.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/8949market/market/shared/config"
	"github.com/8949market/market/shared/devstack"
	"github.com/8949market/market/shared/devstack/deployed"
	"github.com/8949market/market/shared/registry"
)

func main() {
	if err := run(); err != nil {
		slog.Error("up stopped", "error", err.Error())
		os.Exit(1)
	}
}

func run() error {
	cfg, err := devstack.LocalConfig("up-", "pubsub") // Terraform's default backbone
	if err != nil {
		return err
	}
	raw, err := os.ReadFile("infra/terraform/functions.json")
	if err != nil {
		return fmt.Errorf("the manifest (run make up from the repository root): %w", err)
	}
	manifest, err := registry.ParseManifest(raw)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	const perFunction = 2
	if err := checkConnections(ctx, cfg.DatabaseURL, len(manifest.Functions)*perFunction+8); err != nil {
		return err
	}
	dir, err := filepath.Abs(".up")
	if err != nil {
		return err
	}
	bin := filepath.Join(dir, "bin")
	slog.Info("building the binaries", "dir", bin)
	if err := deployed.Build(ctx, ".", bin); err != nil {
		return err
	}
	host := cfg.ListenHost
	// Sixty processes' request logs go to .up/logs; LOG_LEVEL still applies.
	slog.Info("starting the deployed shape", "backbone", cfg.Backbone, "database", config.Redact(cfg.DatabaseURL))
	shape, err := deployed.Start(ctx, deployed.Options{
		Config: cfg, Manifest: manifest, Bin: bin, Dir: filepath.Join(dir, "logs"),
		Listen: net.JoinHostPort(host, strconv.Itoa(cfg.Port)), ChatAddr: net.JoinHostPort(host, strconv.Itoa(cfg.ChatPort)),
		DatabaseMaxConns: perFunction, Schedules: true,
	})
	if err != nil {
		return err
	}
	defer func() {
		slog.Info("stopping every process")
		if err := shape.Close(); err != nil {
			slog.Warn("stopped with errors", "error", err.Error())
		}
	}()
	var rss int64
	for _, v := range shape.Memory() {
		rss += v
	}
	fmt.Printf("\n8949 market is up in its deployed shape (%d processes, %s to start, %d MiB resident)\n"+
		"  API (gateway)  %s/api/v1/...\n  chat           %s/api/v1/chat/ws (its own URL, as on Cloud Run)\n"+
		"  backbone       %s\n  logs           %s\n\nAdministrator (MASTER): username %s (password in .dev/bootstrap-admin.json unless BOOTSTRAP_ADMIN_PASSWORD is set)\n\nCtrl-C stops everything.\n",
		shape.Processes(), shape.Started.Round(10*time.Millisecond), rss>>20, shape.URL, shape.ChatURL, cfg.Backbone,
		filepath.Join(dir, "logs"), cfg.BootstrapAdminUsername)
	tick := time.NewTicker(2 * time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
			if exited := shape.Exited(); len(exited) > 0 {
				return fmt.Errorf("processes exited: %v", exited)
			}
		}
	}
}

// checkConnections refuses to start when the server's max_connections cannot hold the
// shape's pools, instead of failing later with "too many clients".
func checkConnections(ctx context.Context, dsn string, need int) error {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return fmt.Errorf("DATABASE_URL: %w", err)
	}
	cfg.Database = "postgres"
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	defer conn.Close(ctx)
	var limit, used int
	if err := conn.QueryRow(ctx, `SELECT current_setting('max_connections')::int, (SELECT count(*)::int FROM pg_stat_activity)`).Scan(&limit, &used); err != nil {
		return fmt.Errorf("read max_connections: %w", err)
	}
	if need > limit-used-3 {
		return fmt.Errorf("the deployed shape may open %d database connections but the server allows %d (%d in use): raise max_connections (ALTER SYSTEM SET max_connections = 300, then restart PostgreSQL; scripts/services.sh does this for the local server)", need, limit, used)
	}
	return nil
}
