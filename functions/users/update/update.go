// Package update is the function users-update: PATCH /api/v1/users/{userId} lets an
// administrator change an account's name, nickname or role. Only a MASTER grants or takes
// away MANAGER or MASTER, or changes another administrator's account (U030); a role
// change signs the account out everywhere so its next token carries the new role.
package update

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
	registry.HTTP("users-update", "PATCH /api/v1/users/{userId}", New)
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
		if !who.IsAdmin() {
			api.Fail(w, r, users.ErrAdminRequired)
			return
		}
		var req users.AdminUpdate
		if err := api.Decode(w, r, kit.Config.MaxBodyBytes, &req); err != nil {
			api.Fail(w, r, err)
			return
		}
		u, err := store.Update(r.Context(), id, func(u *users.User) error {
			return u.UpdateByAdmin(req, who, time.Now())
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
