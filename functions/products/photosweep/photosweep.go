// Package photosweep is the function products-photo-sweep, run every ten minutes (Cloud
// Scheduler on GCP, a ticker in make dev): it gives up uploads that never arrived, forgets
// photos rejected a week ago, and deletes from the buckets the files of deleted photos and
// products and the uploads left behind (products.Photos.Sweep). Deletions are recorded
// in the transactions that make them due, so none is lost; the uploads bucket's lifecycle
// rule is the last resort.
package photosweep

import (
	"context"
	"net/http"
	"time"

	"github.com/8949market/market/shared/endpoint"
	"github.com/8949market/market/shared/platform"
	"github.com/8949market/market/shared/products"
	"github.com/8949market/market/shared/registry"
)

var spec = endpoint.Spec[endpoint.None, products.SweepResult]{
	Public: true,
}

func init() {
	registry.Scheduled("products-photo-sweep", "*/10 * * * *", New, registry.UsesBuckets(registry.UseUploads, registry.UsePhotos))
}

// batch bounds one transaction of deletions.
const batch = 100

// New builds the handler. The scheduler's push authentication, not a user token, admits
// the call (registry), so the endpoint is Public to endpoint.Handle.
func New(kit *platform.Kit) http.Handler {
	uploads, photos, err := kit.Buckets()
	if err != nil {
		return endpoint.Unavailable("the file storage is not configured", err)
	}
	ph := products.NewPhotos(kit.DB, uploads, photos, kit.Config.PhotosBase())
	return endpoint.Handle(kit, spec, func(ctx context.Context, _ endpoint.Request[endpoint.None]) (products.SweepResult, error) {
		return ph.Sweep(ctx, time.Now(), batch)
	})
}
