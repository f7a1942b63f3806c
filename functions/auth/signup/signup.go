// Package signup is the function auth-signup: POST /api/v1/auth/signup creates an
// account (users.Register). Anyone may sign up as a USER; a MANAGER or MASTER account
// needs a MASTER's access token on the request.
package signup

import (
	"context"
	"net/http"
	"time"

	"github.com/8949market/market/shared/endpoint"
	"github.com/8949market/market/shared/platform"
	"github.com/8949market/market/shared/registry"
	"github.com/8949market/market/shared/users"
)

var spec = endpoint.Spec[users.Signup, users.Created]{
	Public: true,
	Status: http.StatusCreated,
}

func init() {
	registry.HTTP("auth-signup", "POST /api/v1/auth/signup", New, registry.Public(), spec.Doc())
}

// New builds the handler. The route is public, but a token, if sent, must be valid
// (Verifier.Optional): it is what allows creating an administrator.
func New(kit *platform.Kit) http.Handler {
	store, pw := users.NewStore(kit.DB, kit.Config.AccessTokenTTL), users.MustPasswords(kit.Config.BcryptCost)
	return kit.Verifier.Optional(endpoint.Handle(kit, spec, func(ctx context.Context, r endpoint.Request[users.Signup]) (users.Created, error) {
		return users.Register(ctx, store, pw, r.Who, r.Body, time.Now())
	}))
}
