// Package me is the function users-me: GET /api/v1/users/me returns the caller's account.
package me

import (
	"context"
	"net/http"

	"github.com/8949market/market/shared/endpoint"
	"github.com/8949market/market/shared/platform"
	"github.com/8949market/market/shared/registry"
	"github.com/8949market/market/shared/users"
)

var spec = endpoint.Spec[endpoint.None, users.Detail]{}

func init() {
	registry.HTTP("users-me", "GET /api/v1/users/me", New, spec.Doc())
}

// New builds the handler.
func New(kit *platform.Kit) http.Handler {
	store := users.NewStore(kit.DB, kit.Config.AccessTokenTTL)
	return endpoint.Handle(kit, spec, func(ctx context.Context, r endpoint.Request[endpoint.None]) (users.Detail, error) {
		return users.Read(ctx, store, r.Who, r.Who.UserID)
	})
}
