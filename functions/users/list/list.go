// Package list is the function users-list: GET /api/v1/users lists accounts for
// administrators, filtered and sorted, a page at a time by cursor.
//
// Query: keyword (username, name or nickname), username, name, nickname (each a part, any
// case), userRole, sort (createdAt|username|name|nickname|userRole[,asc|desc], default
// createdAt,desc), size (1-100, default 20), cursor (from the previous page).
package list

import (
	"net/http"

	"github.com/8949market/market/shared/api"
	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/page"
	"github.com/8949market/market/shared/platform"
	"github.com/8949market/market/shared/registry"
	"github.com/8949market/market/shared/users"
)

func init() {
	registry.HTTP("users-list", "GET /api/v1/users", New)
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
		if !who.IsAdmin() {
			api.Fail(w, r, users.ErrAdminRequired)
			return
		}
		q := r.URL.Query()
		f := users.Filter{Keyword: q.Get("keyword"), Username: q.Get("username"), Name: q.Get("name"), Nickname: q.Get("nickname")}
		if raw := q.Get("userRole"); raw != "" {
			role, ok := users.ParseRole(raw)
			if !ok {
				api.Fail(w, r, users.ErrRolePattern.OnField("userRole"))
				return
			}
			f.Role = role
		}
		sort, err := users.ParseSort(q.Get("sort"))
		if err != nil {
			api.Fail(w, r, err)
			return
		}
		size, err := page.Size(r, 20, 100)
		if err != nil {
			api.Fail(w, r, err)
			return
		}
		p, err := store.Search(r.Context(), f, sort, size, q.Get("cursor"))
		if err != nil {
			api.Fail(w, r, err)
			return
		}
		api.OK(w, r, p)
	})
}
