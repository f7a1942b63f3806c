// Command dev runs the whole platform locally (make dev): it creates and migrates the
// database, serves every function on one origin with the chat server behind
// /api/v1/chat/, and stops cleanly on Ctrl-C.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"

	"github.com/8949market/market/shared/config"
	"github.com/8949market/market/shared/devstack"
	"github.com/8949market/market/shared/registry"
	"github.com/8949market/market/shared/telemetry"
	"github.com/8949market/market/shared/telemetry/traceview"
)

func main() {
	if err := run(); err != nil {
		slog.Error("dev stack stopped", "error", err.Error())
		os.Exit(1)
	}
}

func run() error {
	cfg, err := devstack.LocalConfig("dev-", "")
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	// Every trace is kept in memory (the last 500) and shown at /debug/traces, the metrics
	// at /metrics; OTEL_TRACES_EXPORTER / OTEL_EXPORTER_OTLP_ENDPOINT send them on too.
	traces := traceview.New(500)
	tel, err := telemetry.Start(ctx, telemetry.Options{Service: "market-dev", Prometheus: true, Spans: traces})
	if err != nil {
		return err
	}
	defer tel.Flush()

	slog.Info("starting", "database", config.Redact(cfg.DatabaseURL), "redis", config.Redact(cfg.RedisURL),
		"backbone", cfg.Backbone, "topicPrefix", cfg.TopicPrefix)
	st, err := devstack.Start(ctx, devstack.Options{
		Config:     cfg,
		Listen:     net.JoinHostPort(cfg.ListenHost, strconv.Itoa(cfg.Port)),
		ChatListen: net.JoinHostPort(cfg.ListenHost, strconv.Itoa(cfg.ChatPort)),
		Debug: map[string]http.Handler{
			"GET /metrics":       tel.Metrics,
			"GET /debug/traces":  traces.Handler("/debug/traces"),
			"GET /debug/traces/": traces.Handler("/debug/traces"),
			"GET /docs":          http.RedirectHandler("/api/v1/docs/index.html", http.StatusFound), // the API reference (platform-docs)
		},
	})
	if err != nil {
		return err
	}
	base := st.URL
	fmt.Printf("\n8949 market is up\n  API         %s/api/v1/...\n  reference   %s/docs\n  health      %s/healthz\n  platform    %s/api/v1/platform/info\n  chat        %s/api/v1/chat/ (chat-server on :%d)\n  files       %s/storage/ (Cloud Storage stand-in, in %s)\n  traces      %s/debug/traces\n  metrics     %s/metrics\n\n",
		base, base, base, base, base, cfg.ChatPort, base, cfg.StorageDir, base, base)
	for _, f := range registry.All() {
		if f.Kind == registry.KindHTTP {
			fmt.Printf("  %-26s %s\n", f.Name, f.Route())
		}
	}
	fmt.Printf("\nAdministrator (MASTER): username %s, password %s\n", cfg.BootstrapAdminUsername, adminPassword(cfg))
	fmt.Println("\nCtrl-C stops everything.")
	if err := st.Run(ctx); err != nil {
		return err
	}
	slog.Info("stopped cleanly")
	return nil
}

// adminPassword shows the generated local password, never one given in the environment.
func adminPassword(cfg config.Config) string {
	if os.Getenv("BOOTSTRAP_ADMIN_PASSWORD") != "" {
		return "(from BOOTSTRAP_ADMIN_PASSWORD)"
	}
	return cfg.BootstrapAdminPassword + " (kept in .dev/bootstrap-admin.json)"
}
