// Command chat-server runs the chat container on its own (Cloud Run service
// "chat-server"); make dev runs the same server inside the dev stack.
package main

import (
	"context"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"syscall"

	chatserver "github.com/8949market/market/chat-server"
	"github.com/8949market/market/shared/config"
	"github.com/8949market/market/shared/platform"
	"github.com/8949market/market/shared/serve"
	"github.com/8949market/market/shared/telemetry"
)

func main() {
	if err := run(); err != nil {
		slog.Error("chat-server stopped", "error", err.Error())
		os.Exit(1)
	}
}

func run() error {
	cfg, err := config.Load()
	if err != nil {
		return err
	}
	telemetry.Setup(cfg)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	kit, err := platform.New(ctx, cfg)
	if err != nil {
		return err
	}
	defer kit.Close()
	chat := chatserver.New(kit)
	srv, err := serve.Listen(":"+strconv.Itoa(cfg.Port), chat.Handler())
	if err != nil {
		chat.Shutdown(ctx)
		return err
	}
	slog.Info("chat-server listening", "url", srv.URL())
	return chat.Run(ctx, srv, cfg.ShutdownTimeout)
}
