// Command dev runs the whole platform locally (make dev): it creates and migrates the
// database, serves every function on one origin with the chat server behind
// /api/v1/chat/, and stops cleanly on Ctrl-C.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strconv"
	"syscall"

	"github.com/8949market/market/shared/config"
	"github.com/8949market/market/shared/devstack"
	"github.com/8949market/market/shared/registry"
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

	slog.Info("starting", "database", config.Redact(cfg.DatabaseURL), "redis", config.Redact(cfg.RedisURL),
		"backbone", cfg.Backbone, "topicPrefix", cfg.TopicPrefix)
	st, err := devstack.Start(ctx, devstack.Options{
		Config:     cfg,
		Listen:     net.JoinHostPort(cfg.ListenHost, strconv.Itoa(cfg.Port)),
		ChatListen: net.JoinHostPort(cfg.ListenHost, strconv.Itoa(cfg.ChatPort)),
	})
	if err != nil {
		return err
	}
	base := st.URL
	fmt.Printf("\n8949 market is up\n  API         %s/api/v1/...\n  health      %s/healthz\n  platform    %s/api/v1/platform/info\n  chat        %s/api/v1/chat/ (chat-server on :%d)\n\n",
		base, base, base, base, cfg.ChatPort)
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
