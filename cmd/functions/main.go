// Command functions is the one container image of every function with a Cloud Run
// service of its own (functions/image states which). On Cloud Run, FUNCTION_TARGET names
// the function a service runs: it is registered with the Functions Framework under its
// stable name and served at "/" (the request still carries its full /api/v1 path, which
// the function matches itself). Without FUNCTION_TARGET it serves all of them on one
// origin (docker compose), internal endpoints at POST /internal/functions/<name>.
//
// Either way an internal endpoint (event or scheduled function) serves only callers the
// delivery check verifies (PUSH_AUTH): without it the binary refuses to start.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/GoogleCloudPlatform/functions-framework-go/funcframework"
	"github.com/GoogleCloudPlatform/functions-framework-go/functions"

	_ "github.com/8949market/market/functions/image" // what this image serves
	"github.com/8949market/market/shared/config"
	"github.com/8949market/market/shared/platform"
	"github.com/8949market/market/shared/registry"
	"github.com/8949market/market/shared/router"
	"github.com/8949market/market/shared/serve"
	"github.com/8949market/market/shared/telemetry"
)

func main() {
	if err := run(); err != nil {
		slog.Error("functions stopped", "error", err.Error())
		os.Exit(1)
	}
}

func run() error {
	cfg, err := config.Load()
	if err != nil {
		return err
	}
	telemetry.Setup(cfg)
	if err := registry.Validate(); err != nil {
		return fmt.Errorf("function registry: %w", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	target := os.Getenv("FUNCTION_TARGET")
	service := target // each function is its own Cloud Run service
	if service == "" {
		service = "functions"
	}
	tel, err := telemetry.Start(ctx, telemetry.Options{Service: service})
	if err != nil {
		return err
	}
	defer tel.Flush()
	kit, err := platform.New(ctx, cfg)
	if err != nil {
		return err
	}
	defer kit.Close()

	if target == "" {
		return serveAll(ctx, kit)
	}
	return serveTarget(ctx, kit, target)
}

// serveAll serves every function of the image on one origin, proxying /api/v1/chat/ to
// CHAT_SERVER_URL.
func serveAll(ctx context.Context, kit *platform.Kit) error {
	cfg := kit.Config
	fns := router.Served(registry.All())
	if err := registry.Servable(kit, fns...); err != nil {
		return err
	}
	chat, err := url.Parse(cfg.ChatServerURL)
	if err != nil {
		return fmt.Errorf("CHAT_SERVER_URL: %w", err)
	}
	srv, err := serve.Listen(net.JoinHostPort(cfg.ListenHost, strconv.Itoa(cfg.Port)), router.New(kit, fns, router.Options{Chat: chat}))
	if err != nil {
		return err
	}
	slog.Info("serving every function", "url", srv.URL(), "functions", len(fns), "pushAuth", kit.Push.Mode())
	return srv.Run(ctx, cfg.ShutdownTimeout)
}

// serveTarget runs one function under the Functions Framework. Every kind is registered
// as an HTTP function so that event and scheduled functions get the same handler stack
// (trace, logs, recovery, the delivery check) as REST ones; the CloudEvent decoding is
// inside that stack.
func serveTarget(ctx context.Context, kit *platform.Kit, target string) error {
	fn, ok := registry.Lookup(target)
	if !ok {
		return fmt.Errorf("FUNCTION_TARGET %q is not a function of this image", target)
	}
	if err := registry.Servable(kit, fn); err != nil {
		return err
	}
	// On Cloud Run (K_SERVICE set) the framework writes an empty line to stdout and stderr
	// after every request to flush logs, which our line-at-a-time JSON logs do not need:
	// each would be an empty entry in Cloud Logging.
	if err := os.Unsetenv("K_SERVICE"); err != nil {
		return fmt.Errorf("unset K_SERVICE: %w", err)
	}
	h := fn.Handler(kit)
	var inflight atomic.Int64
	functions.HTTP(fn.Name, func(w http.ResponseWriter, r *http.Request) {
		inflight.Add(1)
		defer inflight.Add(-1)
		h.ServeHTTP(w, r)
	})
	errc := make(chan error, 1)
	go func() { errc <- funcframework.StartHostPort(kit.Config.ListenHost, strconv.Itoa(kit.Config.Port)) }()
	slog.Info("serving function", "function", fn.Name, "kind", fn.Kind, "route", fn.Route(), "port", kit.Config.Port)
	select {
	case err := <-errc:
		return fmt.Errorf("functions framework: %w", err)
	case <-ctx.Done():
	}
	// The framework's server cannot be shut down; Cloud Run has stopped routing to this
	// instance by SIGTERM, so waiting for requests in flight is the drain.
	deadline := time.Now().Add(kit.Config.ShutdownTimeout)
	for inflight.Load() > 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := inflight.Load(); n > 0 {
		return errors.New("shutdown with " + strconv.FormatInt(n, 10) + " requests in flight")
	}
	slog.Info("function stopped", "function", fn.Name)
	return nil
}
