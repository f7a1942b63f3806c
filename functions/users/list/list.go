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
	"time"

	"github.com/google/uuid"

	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/endpoint"
	"github.com/8949market/market/shared/fault"
	"github.com/8949market/market/shared/page"
	"github.com/8949market/market/shared/platform"
	"github.com/8949market/market/shared/registry"
	"github.com/8949market/market/shared/users"
)

var spec = endpoint.Spec[endpoint.None, page.Page[users.Summary]]{
	Summary: "List accounts (administrators)",
	Description: "Lists live accounts for an administrator (MANAGER or MASTER); anyone else gets 403 `U015`. " +
		"Deleted accounts never appear.\n\n" +
		"Filters combine with AND: `keyword` matches a part of the username, name or nickname; " +
		"`username`, `name` and `nickname` each match a part of that field; all ignore case. " +
		"`userRole` keeps one role.\n\n" +
		"Keyset pagination: `size` rows per page (1 to 100, default 20), then pass the answer's " +
		"`nextCursor` as `cursor` for the next page, with the same filters and `sort`; `hasNext` is " +
		"false and `nextCursor` absent on the last page. A cursor made for another filter or order " +
		"is refused with 400 `C015`.",
	Query: []registry.Param{
		{Name: "keyword", Type: "string", Example: "alice",
			Description: "A part of the username, name or nickname, in any case."},
		{Name: "username", Type: "string", Example: "alice",
			Description: "A part of the username, in any case."},
		{Name: "name", Type: "string", Example: "Ali",
			Description: "A part of the name, in any case."},
		{Name: "nickname", Type: "string", Example: "ali",
			Description: "A part of the nickname, in any case."},
		{Name: "userRole", Type: "string", Enum: []string{"USER", "MANAGER", "MASTER"}, Example: "MANAGER",
			Description: "Only accounts of this role. Any case and a `ROLE_` prefix are accepted as well; " +
				"an unknown role is 400 `U006`."},
		{Name: "sort", Type: "string", Default: "createdAt,desc", Example: "username,asc",
			Description: "`field[,asc|desc]`: the field is `createdAt`, `username`, `name`, `nickname` or " +
				"`userRole`, the direction ascending unless `desc` (ties are broken by id). Anything else is 400 `C015`."},
		{Name: "size", Type: "integer", Minimum: new(1.0), Maximum: new(100.0), Default: 20,
			Description: "Accounts per page, 1 to 100."},
		{Name: "cursor", Type: "string",
			Description: "The `nextCursor` of the previous page, with the same filters and sort; absent for the first page."},
	},
	Errors: []*fault.Error{users.ErrAdminRequired, users.ErrRolePattern, fault.ErrBadParameter},
	Answer: &page.Page[users.Summary]{
		Content: []users.Summary{
			{
				UserID: uuid.MustParse("0b8f5a2e-3c41-4d7a-9e62-5f1c8a3b7d90"), Username: "alice2024",
				Name: "Alice", Nickname: "alicek", UserRole: auth.RoleUser,
				CreatedAt:  time.Date(2026, 11, 20, 9, 15, 0, 0, time.UTC),
				ModifiedAt: time.Date(2026, 11, 21, 18, 2, 41, 0, time.UTC),
			},
			{
				UserID: uuid.MustParse("9a4c7e21-5d3b-4f86-b2a9-1e6d8c3f7a52"), Username: "sellerbob",
				Name: "Bob", Nickname: "bobsdeals", UserRole: auth.RoleUser,
				CreatedAt:  time.Date(2026, 11, 18, 14, 40, 12, 0, time.UTC),
				ModifiedAt: time.Date(2026, 11, 18, 14, 40, 12, 0, time.UTC),
			},
		},
		Size:       2,
		NextCursor: "eyJxIjoiRVhBTVBMRS1DVVJTT1IifQ",
		HasNext:    true,
	},
}

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
