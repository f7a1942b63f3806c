package devstack

import (
	"context"
	"fmt"
	"net/http"

	"github.com/8949market/market/shared/devstack/objectstore"
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
