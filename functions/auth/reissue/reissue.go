// Package reissue is the function auth-reissue: POST /api/v1/auth/reissue exchanges a
// refresh token, with the access token it came with, for a new pair.
//
// The rules (rotation, a spent refresh token revoking its session, the old access token
// revoked, sessions ending with the account's password, role or deletion) are
// users.SignIn.Reissue's.
package reissue

import (
	"context"
	"net/http"

	"github.com/8949market/market/shared/endpoint"
	"github.com/8949market/market/shared/platform"
	"github.com/8949market/market/shared/registry"
	"github.com/8949market/market/shared/users"
)

var spec = endpoint.Spec[users.RefreshRequest, users.Pair]{
	Public: true,
}

func init() {
	registry.HTTP("auth-reissue", "POST /api/v1/auth/reissue", New, registry.Public(), registry.Signs(), spec.Doc())
}

// New builds the handler.
func New(kit *platform.Kit) http.Handler {
	signIn := users.NewSignIn(kit.DB, kit.Redis, kit.Signer, kit.Verifier, kit.Denylist, kit.Config)
	return endpoint.Handle(kit, spec, func(ctx context.Context, r endpoint.Request[users.RefreshRequest]) (users.Pair, error) {
		return signIn.Reissue(ctx, r.Body.AccessToken, r.Body.RefreshToken)
	})
}
