// Package logout is the function auth-logout: POST /api/v1/auth/logout ends the caller's
// session (its refresh tokens stop working) and revokes the access token it was called
// with until that token expires. Every function refuses a revoked token.
package logout

import (
	"net/http"

	"github.com/8949market/market/shared/api"
	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/fault"
	"github.com/8949market/market/shared/platform"
	"github.com/8949market/market/shared/registry"
	"github.com/8949market/market/shared/users"
)

func init() {
	registry.HTTP("auth-logout", "POST /api/v1/auth/logout", New)
}

// New builds the handler.
func New(kit *platform.Kit) http.Handler {
	sessions := auth.NewSessions(kit.Redis, kit.Config.RefreshTokenTTL)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		who, ok := auth.FromContext(r.Context())
		if !ok {
			api.Fail(w, r, users.ErrUnauthenticated)
			return
		}
		if err := sessions.End(r.Context(), who.SessionID); err != nil {
			api.Fail(w, r, fault.ErrUnavailable.Wrap(err))
			return
		}
		if err := kit.Denylist.DenyToken(r.Context(), who.TokenID, who.ExpiresAt); err != nil {
			api.Fail(w, r, fault.ErrUnavailable.Wrap(err))
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}
