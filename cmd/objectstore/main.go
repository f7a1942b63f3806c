// Command objectstore runs the local stand-in for Cloud Storage's endpoint as a process of
// its own, as storage.googleapis.com is not the platform's gateway: the storage of the
// local deployed shape (make up) and of the docker compose stack. It serves
// /storage/<bucket>/<object> on PORT over the directory STORAGE_DIR, which the functions
// share (STORAGE_BACKEND=local with the same STORAGE_SIGNING_KEY): signed uploads into
// UPLOADS_BUCKET, each announced on the backbone (BACKBONE with PUBSUB_EMULATOR_HOST or
// KAFKA_BROKERS) as Cloud Storage's notification to TOPIC_PREFIX+upload-finalized, and
// public reads of PHOTOS_BUCKET. It is a development tool: no deployable links it.
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
	"github.com/8949market/market/shared/devstack/objectstore"
	"github.com/8949market/market/shared/events"
	"github.com/8949market/market/shared/serve"
	"github.com/8949market/market/shared/storage"
	"github.com/8949market/market/shared/telemetry"
)

func main() {
	if err := run(); err != nil {
		slog.Error("objectstore stopped", "error", err.Error())
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
	var buckets []*storage.Local
	for _, name := range []string{cfg.UploadsBucket, cfg.PhotosBucket} {
		b, err := storage.NewLocal(cfg.StorageDir, name, cfg.StorageURL, []byte(cfg.StorageSigningKey))
		if err != nil {
			return err
		}
		buckets = append(buckets, b)
	}
	pub, err := objectstore.Publisher(ctx, cfg)
	if err != nil {
		return err
	}
	defer pub.Close()
	topic := cfg.TopicPrefix + events.UploadFinalized
	if err := pub.EnsureTopics(ctx, []string{topic}); err != nil {
		return fmt.Errorf("topic %s: %w", topic, err)
	}
	srv, err := serve.Listen(net.JoinHostPort(cfg.ListenHost, strconv.Itoa(cfg.Port)), http.StripPrefix("/storage", objectstore.New(objectstore.Options{
		Buckets: buckets, Public: []string{cfg.PhotosBucket}, Origins: cfg.CORSAllowedOrigins,
		Notify: objectstore.Announcer(pub, cfg.TopicPrefix),
	})))
	if err != nil {
		return err
	}
	slog.Info("storage stand-in listening", "addr", srv.Addr(), "dir", cfg.StorageDir, "url", cfg.StorageURL)
	return srv.Run(ctx, cfg.ShutdownTimeout)
}
