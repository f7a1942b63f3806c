// Command chat-server runs the chat container on its own (Cloud Run service
// "chat-server"); make dev runs the same server inside the dev stack. Besides its
// WebSockets and REST routes it serves the trade events that open and close rooms, the
// event functions imported below (registry.HostedBy("chat-server")): this list is what
// the binary serves, and the deployables test holds it to what Terraform routes here.
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

	chatserver "github.com/8949market/market/chat-server"
	_ "github.com/8949market/market/functions/chat/tradecancelled"
	_ "github.com/8949market/market/functions/chat/tradecompleted"
	_ "github.com/8949market/market/functions/chat/tradecreated"
	"github.com/8949market/market/shared/config"
	"github.com/8949market/market/shared/platform"
	"github.com/8949market/market/shared/registry"
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
	tel, err := telemetry.Start(ctx, telemetry.Options{Service: "chat-server"})
	if err != nil {
		return err
	}
	defer tel.Flush()
	kit, err := platform.New(ctx, cfg)
	if err != nil {
		return err
	}
	defer kit.Close()
	if err := registry.Validate(); err != nil {
		return fmt.Errorf("function registry: %w", err)
	}
	if err := registry.Servable(kit, chatserver.Hosted()...); err != nil {
		return err
	}
	chat := chatserver.New(kit)
	srv, err := serve.Listen(net.JoinHostPort(cfg.ListenHost, strconv.Itoa(cfg.Port)), chat.Handler())
	if err != nil {
		chat.Shutdown(ctx)
		return err
	}
	slog.Info("chat-server listening", "url", srv.URL(), "hostedFunctions", len(chatserver.Hosted()), "pushAuth", kit.Push.Mode())
	return chat.Run(ctx, srv, cfg.ShutdownTimeout)
}
