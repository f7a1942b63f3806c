// Package get is the function users-get: GET /api/v1/users/{userId} returns an account to
// the user themself or an administrator.
package get

import (
	"net/http"

	"github.com/8949market/market/shared/api"
	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/platform"
	"github.com/8949market/market/shared/registry"
	"github.com/8949market/market/shared/users"
)

func init() {
	registry.HTTP("users-get", "GET /api/v1/users/{userId}", New)
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
			api.Fail(w, r, users.ErrAdminRequired)
			return
		}
		u, err := store.Get(r.Context(), id)
		if err != nil {
			api.Fail(w, r, err)
			return
		}
		api.OK(w, r, u.Detail())
	})
}
