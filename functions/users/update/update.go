// Package update is the function users-update: PATCH /api/v1/users/{userId} lets an
// administrator change an account's name, nickname or role. Only a MASTER grants or takes
// away MANAGER or MASTER, or changes another administrator's account (U030); a role
// change signs the account out everywhere so its next token carries the new role
// (users.Update).
package update

import (
	"context"
	"net/http"
	"time"

	"github.com/8949market/market/shared/endpoint"
	"github.com/8949market/market/shared/platform"
	"github.com/8949market/market/shared/registry"
	"github.com/8949market/market/shared/users"
)

var spec = endpoint.Spec[users.AdminUpdate, users.Modified]{
	PathID: "userId",
}

func init() {
	registry.HTTP("users-update", "PATCH /api/v1/users/{userId}", New, spec.Doc())
}

// New builds the handler.
func New(kit *platform.Kit) http.Handler {
	store := users.NewStore(kit.DB, kit.Config.AccessTokenTTL)
	return endpoint.Handle(kit, spec, func(ctx context.Context, r endpoint.Request[users.AdminUpdate]) (users.Modified, error) {
		return users.Update(ctx, store, kit.Denylist, r.Who, r.ID, r.Body, time.Now())
	})
}
