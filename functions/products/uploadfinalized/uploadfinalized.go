// Package uploadfinalized is the function products-upload-finalized: it consumes
// upload-finalized, Cloud Storage's notice that a client's upload is complete (the local
// storage stand-in sends the same), and makes it a photo of its product or rejects it
// with why (products.Photos.OnUploadFinalized).
package uploadfinalized

import (
	"context"
	"encoding/json"
	"fmt"

	cloudevents "github.com/cloudevents/sdk-go/v2"

	"github.com/8949market/market/shared/events"
	"github.com/8949market/market/shared/fault"
	"github.com/8949market/market/shared/inbox"
	"github.com/8949market/market/shared/objectevent"
	"github.com/8949market/market/shared/platform"
	"github.com/8949market/market/shared/products"
	"github.com/8949market/market/shared/registry"
)

const name = "products-upload-finalized"

func init() {
	registry.Event(name, events.UploadFinalized, New, registry.UsesBuckets(registry.UseUploads, registry.UsePhotos))
}

// New builds the consumer.
func New(kit *platform.Kit) registry.EventHandler {
	uploads, photos, err := kit.Buckets()
	if err != nil {
		return func(context.Context, cloudevents.Event) error {
			return fault.ErrUnavailable.WithMessage("the file storage is not configured").Wrap(err)
		}
	}
	consume := inbox.Handle(kit.DB, name, products.NewPhotos(kit.DB, uploads, photos, kit.Config.PhotosBase()).OnUploadFinalized)
	return func(ctx context.Context, e cloudevents.Event) error {
		// The data first, as every consumer refuses data that does not fit its event.
		var o objectevent.Object
		if err := json.Unmarshal(e.Data(), &o); err != nil || o.Bucket == "" || o.Name == "" || o.Generation == "" {
			return fault.ErrMalformedEvent.WithMessage("%s data is not a Cloud Storage object (bucket, name, generation)", e.Type()).OnField("data")
		}
		switch e.Type() {
		case objectevent.Type:
		case objectevent.TypeDeleted, objectevent.TypeArchived, objectevent.TypeMetadataUpdated:
			// A notification configured wider than finished objects: nothing to do.
			return nil
		default:
			return fault.ErrMalformedEvent.WithMessage("%s is not a Cloud Storage notification", e.Type()).OnField("type")
		}
		if err := consume(ctx, e); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		return nil
	}
}
