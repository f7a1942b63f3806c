// Package signup is the function auth-signup: POST /api/v1/auth/signup creates an
// account. Anyone may sign up as a USER; a MANAGER or MASTER account needs a MASTER's
// access token on the request.
package signup

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
	registry.HTTP("auth-signup", "POST /api/v1/auth/signup", New, registry.Public())
}

// New builds the handler.
func New(kit *platform.Kit) http.Handler {
	store := users.NewStore(kit.DB, kit.Config.AccessTokenTTL)
	pw, err := users.NewPasswords(kit.Config.BcryptCost)
	if err != nil {
		panic("auth-signup: " + err.Error()) // BCRYPT_COST out of range: a deployment error
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The route is public, but a token, if sent, must be valid: it is what allows
		// creating an administrator.
		var caller *auth.Identity
		if raw, ok := auth.BearerToken(r); ok {
			who, err := kit.Verifier.Verify(r.Context(), raw)
			if err != nil {
				api.Fail(w, r, err)
				return
			}
			caller = &who
		}
		var req users.Signup
		if err := api.Decode(w, r, kit.Config.MaxBodyBytes, &req); err != nil {
			api.Fail(w, r, err)
			return
		}
		u, err := users.New(req, caller, pw, time.Now())
		if err != nil {
			api.Fail(w, r, err)
			return
		}
		if err := store.Create(r.Context(), u); err != nil {
			api.Fail(w, r, err)
			return
		}
		api.Created(w, r, users.Created{
			UserID: u.ID, Username: u.Username, Nickname: u.Nickname,
			CreatedAt: u.CreatedAt, CreatedBy: u.CreatedBy,
		})
	})
}
