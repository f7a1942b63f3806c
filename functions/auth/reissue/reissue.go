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

	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/endpoint"
	"github.com/8949market/market/shared/fault"
	"github.com/8949market/market/shared/platform"
	"github.com/8949market/market/shared/registry"
	"github.com/8949market/market/shared/users"
)

var spec = endpoint.Spec[users.RefreshRequest, users.Pair]{
	Summary: "Renew the tokens",
	Description: "Exchanges a refresh token, with the access token it was issued with (expired or not), for " +
		"a new pair in the same session. Send the tokens in the body; no `Authorization` header is needed.\n\n" +
		"Refresh tokens rotate: the one presented is spent and the answer carries its successor, which " +
		"lives 7 days (by default) from now; the presented access token is revoked, and the new one lives `expiresIn` " +
		"seconds (15 minutes by default). Keep only the newest pair.\n\n" +
		"401 `C002`: the access token is not one of ours (bad signature, malformed), or the refresh token " +
		"is unknown, expired or revoked; presenting a spent refresh token again is taken as theft and ends " +
		"the whole session. 401 `U020`: the tokens are genuine but may not go on: the access token belongs " +
		"to another session, the account has been deleted, or its password or role changed since the " +
		"login; the session is then ended. After any 401, log in again.",
	Public: true,
	Example: &users.RefreshRequest{
		AccessToken:  "eyJhbGciOiJFZERTQSIsImtpZCI6IjIwMjYtMTEiLCJ0eXAiOiJKV1QifQ.EXAMPLE-ACCESS-TOKEN-PAYLOAD.EXAMPLE-SIGNATURE",
		RefreshToken: "5f0c2a9e7b3d4e81a6f2c9d0b1e4a7c3.EXAMPLE-REFRESH-SECRET-1",
	},
	Errors: []*fault.Error{
		users.ErrAccessTokenRequired, users.ErrRefreshTokenRequired, auth.ErrRefreshInvalid, users.ErrBadCredentials,
	},
	Answer: &users.Pair{
		AccessToken:  "eyJhbGciOiJFZERTQSIsImtpZCI6IjIwMjYtMTEiLCJ0eXAiOiJKV1QifQ.EXAMPLE-NEW-ACCESS-TOKEN-PAYLOAD.EXAMPLE-SIGNATURE",
		RefreshToken: "5f0c2a9e7b3d4e81a6f2c9d0b1e4a7c3.EXAMPLE-REFRESH-SECRET-2",
		TokenType:    "Bearer",
		ExpiresIn:    900,
	},
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
