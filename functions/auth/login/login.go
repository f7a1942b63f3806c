// Package login is the function auth-login: POST /api/v1/auth/login exchanges a username
// and password for an access token and the first refresh token of a new session.
//
// An unknown username and a wrong password get the same answer after the same work (a
// bcrypt comparison). Attempts are limited per client address and failures per username,
// in Redis, so every instance shares the count.
package login

import (
	"errors"
	"math"
	"net/http"
	"strings"

	"github.com/8949market/market/shared/api"
	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/fault"
	"github.com/8949market/market/shared/platform"
	"github.com/8949market/market/shared/ratelimit"
	"github.com/8949market/market/shared/registry"
	"github.com/8949market/market/shared/users"
)

func init() {
	registry.HTTP("auth-login", "POST /api/v1/auth/login", New, registry.Public(), registry.Signs())
}

type request struct {
	Username *string `json:"username"`
	Password *string `json:"password"`
}

// New builds the handler.
func New(kit *platform.Kit) http.Handler {
	cfg := kit.Config
	store := users.NewStore(kit.DB, kit.Config.AccessTokenTTL)
	limits := ratelimit.New(kit.Redis)
	pw, err := users.NewPasswords(cfg.BcryptCost)
	if err != nil {
		panic("auth-login: " + err.Error()) // the cost is validated with the configuration
	}
	tokens := users.Tokens{Signer: kit.Signer, Sessions: auth.NewSessions(kit.Redis, cfg.RefreshTokenTTL), AccessTTL: cfg.AccessTokenTTL}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		var req request
		if err := api.Decode(w, r, cfg.MaxBodyBytes, &req); err != nil {
			api.Fail(w, r, err)
			return
		}
		if req.Username == nil || strings.TrimSpace(*req.Username) == "" {
			api.Fail(w, r, users.ErrUsernameRequired.OnField("username"))
			return
		}
		if req.Password == nil || *req.Password == "" {
			api.Fail(w, r, users.ErrPasswordRequired.OnField("password"))
			return
		}
		username := strings.ToLower(strings.TrimSpace(*req.Username))
		userKey := "login:fail:" + username
		byClient, err := limits.Hit(ctx, "login:addr:"+api.ClientAddr(r, cfg.TrustedProxyHops), cfg.LoginMaxPerClient, cfg.LoginWindow)
		if err != nil {
			api.Fail(w, r, fault.ErrUnavailable.Wrap(err))
			return
		}
		if !byClient.Allowed {
			api.Fail(w, r, tooMany(byClient))
			return
		}
		byUser, err := limits.Peek(ctx, userKey, cfg.LoginMaxFailures)
		if err != nil {
			api.Fail(w, r, fault.ErrUnavailable.Wrap(err))
			return
		}
		if !byUser.Allowed {
			api.Fail(w, r, tooMany(byUser))
			return
		}

		u, err := store.ByUsername(ctx, username)
		if err != nil && !errors.Is(err, users.ErrNotFound) {
			api.Fail(w, r, err)
			return
		}
		// u.PasswordHash is empty for an unknown user: Check then compares with a dummy hash.
		ok, err := pw.Check(u.PasswordHash, *req.Password)
		if err != nil {
			api.Fail(w, r, err)
			return
		}
		if !ok {
			if _, err := limits.Hit(ctx, userKey, cfg.LoginMaxFailures, cfg.LoginWindow); err != nil {
				api.Fail(w, r, fault.ErrUnavailable.Wrap(err))
				return
			}
			api.Fail(w, r, users.ErrBadCredentials)
			return
		}
		if err := limits.Reset(ctx, userKey); err != nil {
			api.Fail(w, r, fault.ErrUnavailable.Wrap(err))
			return
		}
		pair, err := tokens.Login(ctx, u)
		if err != nil {
			api.Fail(w, r, fault.ErrUnavailable.Wrap(err))
			return
		}
		api.OK(w, r, pair)
	})
}

func tooMany(res ratelimit.Result) error {
	f := fault.ErrRateLimited.WithMessage("too many login attempts; try again later")
	f.RetryAfter = int(math.Ceil(res.RetryAfter.Seconds()))
	return f
}
