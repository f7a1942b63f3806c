// Command migrate applies the database migrations (make migrate; the Cloud Run migration
// job runs it before the functions roll out).
//
//	migrate [up|status|reset]
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"

	"github.com/8949market/market/migrations"
	"github.com/8949market/market/shared/config"
	"github.com/8949market/market/shared/postgres"
	"github.com/8949market/market/shared/telemetry"
	"github.com/8949market/market/shared/users"
)

func main() {
	if err := run(context.Background(), os.Args[1:]); err != nil {
		slog.Error("migrate failed", "error", err.Error())
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	cfg, err := config.Load()
	if err != nil {
		return err
	}
	telemetry.Setup(cfg)
	cmd := "up"
	if len(args) > 0 {
		cmd = args[0]
	}
	if err := postgres.EnsureDatabase(ctx, cfg.DatabaseURL); err != nil {
		return err
	}
	pool, err := postgres.Connect(ctx, cfg.DatabaseURL, 2)
	if err != nil {
		return err
	}
	defer pool.Close()
	switch cmd {
	case "up":
		n, err := migrations.Up(ctx, pool)
		if err != nil {
			return err
		}
		slog.Info("migrations applied", "database", config.Redact(cfg.DatabaseURL), "applied", n)
		if err := users.BootstrapConfigured(ctx, pool, cfg); err != nil {
			return err
		}
	case "reset":
		if err := migrations.Reset(ctx, pool); err != nil {
			return err
		}
		slog.Info("migrations rolled back", "database", config.Redact(cfg.DatabaseURL))
	case "status":
	default:
		return errors.New("usage: migrate [up|status|reset]")
	}
	cur, latest, err := migrations.Version(ctx, pool)
	if err != nil {
		return err
	}
	fmt.Printf("database %s at migration %d of %d\n", config.Redact(cfg.DatabaseURL), cur, latest)
	return nil
}
