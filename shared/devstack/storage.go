package devstack

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/8949market/market/shared/bus"
	"github.com/8949market/market/shared/devstack/objectstore"
	"github.com/8949market/market/shared/events"
	"github.com/8949market/market/shared/objectevent"
	"github.com/8949market/market/shared/platform"
	"github.com/8949market/market/shared/storage"
)

// localStorage is the stand-in for Cloud Storage's endpoint over the kit's local buckets:
// it takes the signed uploads, serves the photos to anyone, and announces each finished
// upload through notify.
func localStorage(kit *platform.Kit, notify func(context.Context, objectevent.Object) error) (http.Handler, error) {
	uploads, photos, err := kit.Buckets()
	if err != nil {
		return nil, err
	}
	var local []*storage.Local
	for _, b := range []storage.Bucket{uploads, photos} {
		l, ok := b.(*storage.Local)
		if !ok {
			return nil, fmt.Errorf("the storage stand-in serves local buckets, not %T", b)
		}
		local = append(local, l)
	}
	return objectstore.New(objectstore.Options{
		Buckets: local, Public: []string{photos.Name()}, Origins: kit.Config.CORSAllowedOrigins, Notify: notify,
	}), nil
}

// notice publishes a finished upload as Cloud Storage notifies it. On Pub/Sub: its own
// attributes and data, which the delivery reads as the push subscription on GCP does. On
// Kafka, which Cloud Storage cannot notify: the CloudEvent the notification stands for.
func (b *backbone) notice(prefix string) func(context.Context, objectevent.Object) error {
	topic := prefix + events.UploadFinalized
	return func(ctx context.Context, o objectevent.Object) error {
		attrs, data, err := objectevent.Attributes(o, time.Now())
		if err != nil {
			return err
		}
		if ps, ok := b.pub.(*bus.PubSub); ok {
			return ps.PublishNotice(ctx, topic, attrs, data)
		}
		e, _, err := objectevent.Event(func(name string) string { return attrs[name] }, data)
		if err != nil {
			return err
		}
		return b.pub.Publish(ctx, []bus.Message{bus.FromEvent(topic, e)})[0]
	}
}
