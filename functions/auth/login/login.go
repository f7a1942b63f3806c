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
	"github.com/8949market/market/shared/fault"
	"github.com/8949market/market/shared/platform"
	"github.com/8949market/market/shared/registry"
	"github.com/8949market/market/shared/users"
)

var spec = endpoint.Spec[users.Credentials, users.Pair]{
	Summary: "Log in",
	Description: "Exchanges a username (any case) and password for an access token and the first refresh " +
		"token of a new session. No access token is needed.\n\n" +
		"The access token is an EdDSA-signed JWT sent as `Authorization: Bearer <accessToken>`; it lives " +
		"`expiresIn` seconds (15 minutes by default). The refresh token is opaque and lives 7 days (by default) from its " +
		"issue; exchange it, with the access token, at `POST /api/v1/auth/reissue` before it runs out. " +
		"Each login starts a separate session, ended by `POST /api/v1/auth/logout`.\n\n" +
		"A wrong password and an unknown username get the same 401 `U020`, after the same work. Attempts " +
		"are limited per client address, and failed attempts per username, within a window (15 minutes " +
		"by default); over either limit the answer is 429 `C013` with `Retry-After` in seconds. A " +
		"successful login clears the username's failures.",
	Public:  true,
	Example: &users.Credentials{Username: "alice2024", Password: "Sunny!day42"},
	Errors: []*fault.Error{
		users.ErrUsernameRequired, users.ErrPasswordRequired, fault.ErrRateLimited, users.ErrBadCredentials,
	},
	Answer: &users.Pair{
		AccessToken:  "eyJhbGciOiJFZERTQSIsImtpZCI6IjIwMjYtMTEiLCJ0eXAiOiJKV1QifQ.EXAMPLE-ACCESS-TOKEN-PAYLOAD.EXAMPLE-SIGNATURE",
		RefreshToken: "5f0c2a9e7b3d4e81a6f2c9d0b1e4a7c3.EXAMPLE-REFRESH-SECRET-1",
		TokenType:    "Bearer",
		ExpiresIn:    900,
	},
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
