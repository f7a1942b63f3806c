// Package updateme is the function users-update-me: PATCH /api/v1/users/me changes the
// caller's name, nickname, password or chat availability. A new password signs the
// account out everywhere, this session included (users.UpdateMe).
package updateme

import (
	"context"
	"net/http"
	"time"

	"github.com/8949market/market/shared/endpoint"
	"github.com/8949market/market/shared/platform"
	"github.com/8949market/market/shared/registry"
	"github.com/8949market/market/shared/users"
)

var spec = endpoint.Spec[users.SelfUpdate, users.Modified]{}

func init() {
	registry.HTTP("users-update-me", "PATCH /api/v1/users/me", New, spec.Doc())
}

// New builds the handler.
func New(kit *platform.Kit) http.Handler {
	store, pw := users.NewStore(kit.DB, kit.Config.AccessTokenTTL), users.MustPasswords(kit.Config.BcryptCost)
	return endpoint.Handle(kit, spec, func(ctx context.Context, r endpoint.Request[users.SelfUpdate]) (users.Modified, error) {
		return users.UpdateMe(ctx, store, kit.Denylist, pw, r.Who, r.Body, time.Now())
	})
}
