// Package remove is the function users-delete: DELETE /api/v1/users/{userId} removes an
// account, on the request of the user themself or an administrator (only a MASTER removes
// another administrator, U030, and never the last MASTER). Its tokens stop working at
// once, and stay refused whatever happens to Redis (users.Remove).
package remove

import (
	"context"
	"net/http"
	"time"

	"github.com/8949market/market/shared/endpoint"
	"github.com/8949market/market/shared/platform"
	"github.com/8949market/market/shared/registry"
	"github.com/8949market/market/shared/users"
)

var spec = endpoint.Spec[endpoint.None, users.Deleted]{
	PathID: "userId",
}

func init() {
	registry.HTTP("users-delete", "DELETE /api/v1/users/{userId}", New, spec.Doc())
}

// New builds the handler.
func New(kit *platform.Kit) http.Handler {
	store := users.NewStore(kit.DB, kit.Config.AccessTokenTTL)
	return endpoint.Handle(kit, spec, func(ctx context.Context, r endpoint.Request[endpoint.None]) (users.Deleted, error) {
		return users.Remove(ctx, store, kit.Denylist, r.Who, r.ID, time.Now())
	})
}
