// Package remove is the function users-delete: DELETE /api/v1/users/{userId} removes an
// account, on the request of the user themself or an administrator (only a MASTER removes
// another administrator, U030, and never the last MASTER). Its tokens stop working at
// once, and stay refused whatever happens to Redis.
package remove

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
	registry.HTTP("users-delete", "DELETE /api/v1/users/{userId}", New)
}

// New builds the handler.
func New(kit *platform.Kit) http.Handler {
	store := users.NewStore(kit.DB, kit.Config.AccessTokenTTL)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		who, ok := auth.FromContext(r.Context())
		if !ok {
			api.Fail(w, r, users.ErrUnauthenticated)
			return
		}
		id, err := users.ParseID(r.PathValue("userId"))
		if err != nil {
			api.Fail(w, r, err)
			return
		}
		// Refused before the lookup, so the answer does not tell whether the id exists.
		if !users.CanRead(who, id) {
			api.Fail(w, r, users.ErrMayNotUpdate)
			return
		}
		u, err := store.Update(r.Context(), id, func(u *users.User) error {
			return u.Delete(who, time.Now())
		})
		if err != nil {
			api.Fail(w, r, err)
			return
		}
		if err := users.RevokeTokens(r.Context(), kit.Denylist, u, kit.Config.AccessTokenTTL); err != nil {
			api.Fail(w, r, err)
			return
		}
		api.OK(w, r, users.Deleted{UserID: u.ID, DeletedAt: u.DeletedAt.UTC(), DeletedBy: *u.DeletedBy})
	})
}
