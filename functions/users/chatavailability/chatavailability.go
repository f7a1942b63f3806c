// Package chatavailability is the function users-chat-availability:
// GET /api/v1/users/{userId}/chat-availability?chatDate=YYYY-MM-DD&chatTime=HH:MM[:SS]
// answers which of a user's chat time ranges cover that moment (users.ChatAvailability).
// Any signed-in user may ask, so a buyer can see when a seller chats; it replaces the
// original's unauthenticated internal endpoint.
package chatavailability

import (
	"context"
	"net/http"

	"github.com/8949market/market/shared/endpoint"
	"github.com/8949market/market/shared/platform"
	"github.com/8949market/market/shared/registry"
	"github.com/8949market/market/shared/users"
)

var spec = endpoint.Spec[endpoint.None, users.Availability]{
	PathID: "userId",
}

func init() {
	registry.HTTP("users-chat-availability", "GET /api/v1/users/{userId}/chat-availability", New, spec.Doc())
}

// New builds the handler.
func New(kit *platform.Kit) http.Handler {
	store := users.NewStore(kit.DB, kit.Config.AccessTokenTTL)
	return endpoint.Handle(kit, spec, func(ctx context.Context, r endpoint.Request[endpoint.None]) (users.Availability, error) {
		return users.ChatAvailability(ctx, store, r.ID, r.Query.Get("chatDate"), r.Query.Get("chatTime"))
	})
}
