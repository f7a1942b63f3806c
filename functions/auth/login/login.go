// Package login is the function auth-login: POST /api/v1/auth/login exchanges a username
// and password for an access token and the first refresh token of a new session.
//
// The rules (the same answer and work for an unknown username as for a wrong password,
// attempts limited per client address and failures per username in Redis) are
// users.SignIn.Login's.
package login

import (
	"context"
	"net/http"

	"github.com/8949market/market/shared/endpoint"
	"github.com/8949market/market/shared/platform"
	"github.com/8949market/market/shared/registry"
	"github.com/8949market/market/shared/users"
)

var spec = endpoint.Spec[users.Credentials, users.Pair]{
	Public: true,
}

func init() {
	registry.HTTP("auth-login", "POST /api/v1/auth/login", New, registry.Public(), registry.Signs(), spec.Doc())
}

// New builds the handler.
func New(kit *platform.Kit) http.Handler {
	signIn := users.NewSignIn(kit.DB, kit.Redis, kit.Signer, kit.Verifier, kit.Denylist, kit.Config)
	return endpoint.Handle(kit, spec, func(ctx context.Context, r endpoint.Request[users.Credentials]) (users.Pair, error) {
		return signIn.Login(ctx, r.Body.Username, r.Body.Password, r.Client)
	})
}
