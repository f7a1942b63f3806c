// Package me is the function users-me: GET /api/v1/users/me returns the caller's account.
package me

import (
	"net/http"

	"github.com/8949market/market/shared/api"
	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/platform"
	"github.com/8949market/market/shared/registry"
	"github.com/8949market/market/shared/users"
)

func init() {
	registry.HTTP("users-me", "GET /api/v1/users/me", New)
}

// New builds the handler.
func New(kit *platform.Kit) http.Handler {
	store := users.NewStore(kit.DB, kit.Config.AccessTokenTTL)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		who, ok := auth.FromContext(r.Context())
		if !ok {
			api.Fail(w, r, users.ErrUnauthenticated)
			return
		}
		u, err := store.Get(r.Context(), who.UserID)
		if err != nil {
			api.Fail(w, r, err)
			return
		}
		api.OK(w, r, u.Detail())
	})
}
