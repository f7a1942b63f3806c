// Package logout is the function auth-logout: POST /api/v1/auth/logout ends the caller's
// session (its refresh tokens stop working) and revokes the access token it was called
// with until that token expires (users.SignIn.Logout). Every function refuses a revoked
// token.
package logout

import (
	"context"
	"net/http"

	"github.com/8949market/market/shared/endpoint"
	"github.com/8949market/market/shared/platform"
	"github.com/8949market/market/shared/registry"
	"github.com/8949market/market/shared/users"
)

var spec = endpoint.Spec[endpoint.None, endpoint.None]{
	Summary: "Log out",
	Description: "Ends the caller's session: none of its refresh tokens can be reissued any more, and the " +
		"access token this request carries is revoked until it would have expired. Other sessions of " +
		"the account (other logins, other devices) go on. Answers 204 with no body.",
	Status: http.StatusNoContent,
}

func init() {
	registry.HTTP("auth-logout", "POST /api/v1/auth/logout", New, spec.Doc())
}

// New builds the handler.
func New(kit *platform.Kit) http.Handler {
	signIn := users.NewSignIn(kit.DB, kit.Redis, kit.Signer, kit.Verifier, kit.Denylist, kit.Config)
	return endpoint.Handle(kit, spec, func(ctx context.Context, r endpoint.Request[endpoint.None]) (endpoint.None, error) {
		return endpoint.None{}, signIn.Logout(ctx, r.Who)
	})
}
