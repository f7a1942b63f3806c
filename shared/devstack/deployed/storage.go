package deployed

import (
	"context"
	"log/slog"
	"net/http"
	"path/filepath"
	"time"

	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/bus"
	"github.com/8949market/market/shared/devstack/objectstore"
	"github.com/8949market/market/shared/events"
	"github.com/8949market/market/shared/objectevent"
	"github.com/8949market/market/shared/serve"
	"github.com/8949market/market/shared/storage"
)

// startStorage runs Cloud Storage's stand-in on an address of its own, as
// storage.googleapis.com is not the gateway: the functions sign uploads for it and keep
// their files in one directory with it (STORAGE_BACKEND=local), and it announces each
// finished upload on the backbone as Cloud Storage's notification does: on Pub/Sub its
// own attributes, pushed to the consumer by the emulator's subscription as on GCP; on
// Kafka, which Cloud Storage cannot notify, the CloudEvent it stands for.
func (s *Shape) startStorage(ctx, runCtx context.Context) error {
	var h http.Handler // set before the server runs
	srv, err := serve.Listen("127.0.0.1:0", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	if err != nil {
		return err
	}
	s.storageEnv = map[string]string{
		"STORAGE_BACKEND":     "local",
		"STORAGE_DIR":         filepath.Join(s.dir, "storage"),
		"STORAGE_URL":         srv.URL() + "/storage",
		"STORAGE_SIGNING_KEY": auth.NewTokenID() + auth.NewTokenID(),
		"UPLOADS_BUCKET":      s.cfg.UploadsBucket,
		"PHOTOS_BUCKET":       s.cfg.PhotosBucket,
	}
	s.StorageURL = s.storageEnv["STORAGE_URL"]
	var buckets []*storage.Local
	for _, name := range []string{s.cfg.UploadsBucket, s.cfg.PhotosBucket} {
		b, err := storage.NewLocal(s.storageEnv["STORAGE_DIR"], name, s.StorageURL, []byte(s.storageEnv["STORAGE_SIGNING_KEY"]))
		if err != nil {
			return err
		}
		buckets = append(buckets, b)
	}
	notify, err := s.notifier(ctx)
	if err != nil {
		return err
	}
	h = http.StripPrefix("/storage", objectstore.New(objectstore.Options{
		Buckets: buckets, Public: []string{s.cfg.PhotosBucket}, Origins: s.cfg.CORSAllowedOrigins, Notify: notify,
	}))
	s.wg.Go(func() {
		if err := srv.Run(runCtx, 5*time.Second); err != nil {
			slog.Warn("deployed: storage", "error", err.Error())
		}
	})
	return nil
}

// notifier publishes finished uploads to the shape's backbone.
func (s *Shape) notifier(ctx context.Context) (func(context.Context, objectevent.Object) error, error) {
	topic := s.cfg.TopicPrefix + events.UploadFinalized
	var publish func(ctx context.Context, attrs map[string]string, data []byte) error
	switch s.cfg.Backbone {
	case "pubsub":
		ps, err := bus.NewPubSub(ctx, s.cfg.PubSubProject, s.cfg.PubSubEmulatorHost)
		if err != nil {
			return nil, err
		}
		s.closers = append(s.closers, ps.Close)
		publish = func(ctx context.Context, attrs map[string]string, data []byte) error {
			return ps.PublishNotice(ctx, topic, attrs, data)
		}
	default:
		k, err := bus.NewKafka(s.cfg.KafkaBrokers)
		if err != nil {
			return nil, err
		}
		s.closers = append(s.closers, k.Close)
		publish = func(ctx context.Context, attrs map[string]string, data []byte) error {
			e, _, err := objectevent.Event(func(name string) string { return attrs[name] }, data)
			if err != nil {
				return err
			}
			return k.Publish(ctx, []bus.Message{bus.FromEvent(topic, e)})[0]
		}
	}
	return func(ctx context.Context, o objectevent.Object) error {
		attrs, data, err := objectevent.Attributes(o, time.Now())
		if err != nil {
			return err
		}
		return publish(ctx, attrs, data)
	}, nil
}
