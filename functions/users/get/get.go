// Package get is the function users-get: GET /api/v1/users/{userId} returns an account to
// the user themself or an administrator (users.Read).
package get

import (
	"context"
	"net/http"
	"time"

	"github.com/google/uuid"

	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/endpoint"
	"github.com/8949market/market/shared/fault"
	"github.com/8949market/market/shared/platform"
	"github.com/8949market/market/shared/registry"
	"github.com/8949market/market/shared/users"
)

var spec = endpoint.Spec[endpoint.None, users.Detail]{
	Summary: "Get an account",
	Description: "Returns the account `userId` with its chat time ranges, to the user themself or an " +
		"administrator (MANAGER or MASTER). Anyone else gets 403 `U015` whether or not the account " +
		"exists; a deleted or unknown account is 404 `U017`. `GET /api/v1/users/me` needs no id.",
	PathID: "userId",
	Errors: []*fault.Error{users.ErrAdminRequired, users.ErrNotFound},
	Answer: &users.Detail{
		UserID: uuid.MustParse("0b8f5a2e-3c41-4d7a-9e62-5f1c8a3b7d90"), Username: "alice2024",
		Name: "Alice", Nickname: "alicek", UserRole: auth.RoleUser,
		ChatTimeRanges: []users.RangeView{
			{DayOfWeek: "MONDAY", StartTime: "19:00:00", EndTime: "21:00:00"},
			{DayOfWeek: "SATURDAY", StartTime: "10:00:00", EndTime: "12:30:00"},
		},
		CreatedAt:  time.Date(2026, 11, 20, 9, 15, 0, 0, time.UTC),
		CreatedBy:  uuid.MustParse("0b8f5a2e-3c41-4d7a-9e62-5f1c8a3b7d90"),
		ModifiedAt: time.Date(2026, 11, 21, 18, 2, 41, 0, time.UTC),
		ModifiedBy: uuid.MustParse("0b8f5a2e-3c41-4d7a-9e62-5f1c8a3b7d90"),
	},
}

func init() {
	registry.HTTP("users-get", "GET /api/v1/users/{userId}", New, spec.Doc())
}

// New builds the handler.
func New(kit *platform.Kit) http.Handler {
	store := users.NewStore(kit.DB, kit.Config.AccessTokenTTL)
	return endpoint.Handle(kit, spec, func(ctx context.Context, r endpoint.Request[endpoint.None]) (users.Detail, error) {
		return users.Read(ctx, store, r.Who, r.ID)
	})
}
