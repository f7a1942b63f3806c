// Package reissue is the function auth-reissue: POST /api/v1/auth/reissue exchanges a
// refresh token, with the access token it came with, for a new pair.
//
// The refresh token rotates: the one presented is spent, and presenting a spent one again
// revokes its whole session (theft detection). The old access token, expired or not, is
// revoked too. A session ends when its user is deleted or its password or role changes.
package reissue

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/8949market/market/shared/api"
	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/fault"
	"github.com/8949market/market/shared/platform"
	"github.com/8949market/market/shared/registry"
	"github.com/8949market/market/shared/users"
)

func init() {
	registry.HTTP("auth-reissue", "POST /api/v1/auth/reissue", New, registry.Public(), registry.Signs())
}

type request struct {
	AccessToken  *string `json:"accessToken"`
	RefreshToken *string `json:"refreshToken"`
}

// New builds the handler.
func New(kit *platform.Kit) http.Handler {
	cfg := kit.Config
	store := users.NewStore(kit.DB, kit.Config.AccessTokenTTL)
	sessions := auth.NewSessions(kit.Redis, cfg.RefreshTokenTTL)
	tokens := users.Tokens{Signer: kit.Signer, Sessions: sessions, AccessTTL: cfg.AccessTokenTTL}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		var req request
		if err := api.Decode(w, r, cfg.MaxBodyBytes, &req); err != nil {
			api.Fail(w, r, err)
			return
		}
		if req.AccessToken == nil || strings.TrimSpace(*req.AccessToken) == "" {
			api.Fail(w, r, users.ErrAccessTokenRequired.OnField("accessToken"))
			return
		}
		if req.RefreshToken == nil || strings.TrimSpace(*req.RefreshToken) == "" {
			api.Fail(w, r, users.ErrRefreshTokenRequired.OnField("refreshToken"))
			return
		}
		old, err := kit.Verifier.VerifySignature(strings.TrimSpace(*req.AccessToken))
		if err != nil {
			api.Fail(w, r, err)
			return
		}
		sess, refresh, err := sessions.Rotate(ctx, strings.TrimSpace(*req.RefreshToken))
		if err != nil {
			api.Fail(w, r, err)
			return
		}
		// From here on the presented refresh token is spent; any refusal ends the session.
		refuse := func(err error) {
			if endErr := sessions.End(context.WithoutCancel(ctx), sess.ID); endErr != nil {
				err = fault.ErrUnavailable.Wrap(endErr)
			}
			api.Fail(w, r, err)
		}
		if old.UserID != sess.UserID || old.SessionID != sess.ID {
			refuse(users.ErrUnauthenticated.WithMessage("the access token does not belong to this session"))
			return
		}
		u, err := store.Get(ctx, sess.UserID)
		if err != nil {
			if errors.Is(err, users.ErrNotFound) {
				err = users.ErrUnauthenticated.WithMessage("the account no longer exists")
			}
			refuse(err)
			return
		}
		if u.TokenVersion != sess.Version {
			refuse(users.ErrUnauthenticated.WithMessage("the session ended when the account changed; log in again"))
			return
		}
		if err := kit.Denylist.DenyToken(ctx, old.TokenID, old.ExpiresAt); err != nil {
			refuse(fault.ErrUnavailable.Wrap(err))
			return
		}
		pair, err := tokens.Reissue(u, sess.ID, refresh)
		if err != nil {
			refuse(err)
			return
		}
		api.OK(w, r, pair)
	})
}
