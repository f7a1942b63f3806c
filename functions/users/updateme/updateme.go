// Package updateme is the function users-update-me: PATCH /api/v1/users/me changes the
// caller's name, nickname, password or chat availability. A new password signs the
// account out everywhere, this session included.
package updateme

import (
	"net/http"
	"time"

	"github.com/8949market/market/shared/api"
	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/platform"
	"github.com/8949market/market/shared/registry"
	"github.com/8949market/market/shared/users"
)

func init() {
	registry.HTTP("users-update-me", "PATCH /api/v1/users/me", New)
}

// New builds the handler.
func New(kit *platform.Kit) http.Handler {
	store := users.NewStore(kit.DB, kit.Config.AccessTokenTTL)
	pw, err := users.NewPasswords(kit.Config.BcryptCost)
	if err != nil {
		panic("users-update-me: " + err.Error()) // the cost is validated with the configuration
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		who, ok := auth.FromContext(r.Context())
		if !ok {
			api.Fail(w, r, users.ErrUnauthenticated)
			return
		}
		var req users.SelfUpdate
		if err := api.Decode(w, r, kit.Config.MaxBodyBytes, &req); err != nil {
			api.Fail(w, r, err)
			return
		}
		u, err := store.Update(r.Context(), who.UserID, func(u *users.User) error {
			return u.UpdateSelf(req, pw, time.Now())
		})
		if err != nil {
			api.Fail(w, r, err)
			return
		}
		if err := users.RevokeTokens(r.Context(), kit.Denylist, u, kit.Config.AccessTokenTTL); err != nil {
			api.Fail(w, r, err)
			return
		}
		api.OK(w, r, users.Modified{UserID: u.ID, ModifiedAt: u.ModifiedAt.UTC(), ModifiedBy: u.ModifiedBy})
	})
}
