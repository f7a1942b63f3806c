// Package me is the function users-me: GET /api/v1/users/me returns the caller's account.
package me

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
	Summary: "Get my account",
	Description: "Returns the caller's own account with its chat time ranges. 404 `U017` means the " +
		"account has been deleted and this access token was not refused yet (a deletion revokes the " +
		"account's tokens, normally everywhere within seconds): the account is gone.",
	Errors: []*fault.Error{users.ErrNotFound},
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
	registry.HTTP("users-me", "GET /api/v1/users/me", New, spec.Doc())
}

// New builds the handler.
func New(kit *platform.Kit) http.Handler {
	store := users.NewStore(kit.DB, kit.Config.AccessTokenTTL)
	return endpoint.Handle(kit, spec, func(ctx context.Context, r endpoint.Request[endpoint.None]) (users.Detail, error) {
		return users.Read(ctx, store, r.Who, r.Who.UserID)
	})
}
