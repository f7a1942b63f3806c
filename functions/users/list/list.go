// Package list is the function users-list: GET /api/v1/users lists accounts for
// administrators, filtered and sorted, a page at a time by cursor (users.List).
//
// Query: keyword (username, name or nickname), username, name, nickname (each a part, any
// case), userRole, sort (createdAt|username|name|nickname|userRole[,asc|desc], default
// createdAt,desc), size (1-100, default 20), cursor (from the previous page).
package list

import (
	"context"
	"net/http"

	"github.com/8949market/market/shared/endpoint"
	"github.com/8949market/market/shared/page"
	"github.com/8949market/market/shared/platform"
	"github.com/8949market/market/shared/registry"
	"github.com/8949market/market/shared/users"
)

var spec = endpoint.Spec[endpoint.None, page.Page[users.Summary]]{}

func init() {
	registry.HTTP("users-list", "GET /api/v1/users", New, spec.Doc())
}

// New builds the handler.
func New(kit *platform.Kit) http.Handler {
	store := users.NewStore(kit.DB, kit.Config.AccessTokenTTL)
	return endpoint.Handle(kit, spec, func(ctx context.Context, r endpoint.Request[endpoint.None]) (page.Page[users.Summary], error) {
		return users.List(ctx, store, r.Who, r.Query)
	})
}
