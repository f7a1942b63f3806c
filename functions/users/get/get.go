// Package get is the function users-get: GET /api/v1/users/{userId} returns an account to
// the user themself or an administrator (users.Read).
package get

import (
	"context"
	"net/http"

	"github.com/8949market/market/shared/endpoint"
	"github.com/8949market/market/shared/platform"
	"github.com/8949market/market/shared/registry"
	"github.com/8949market/market/shared/users"
)

var spec = endpoint.Spec[endpoint.None, users.Detail]{
	PathID: "userId",
}

func init() {
	registry.HTTP("users-get", "GET /api/v1/users/{userId}", New, spec.Doc())
}

// New builds the handler.
func New(kit *platform.Kit) http.Handler {
	store := users.NewStore(kit.DB, kit.Config.AccessTokenTTL)
	return endpoint.Handle(kit, spec, func(ctx context.Context, r endpoint.Request[endpoint.None]) (users.Detail, error) {
		return users.Read(ctx, store, r.Who, r.ID)
	})
}
