// Package update is the function users-update: PATCH /api/v1/users/{userId} lets an
// administrator change an account's name, nickname or role. Only a MASTER grants or takes
// away MANAGER or MASTER, or changes another administrator's account (U030); a role
// change signs the account out everywhere so its next token carries the new role
// (users.Update).
package update

import (
	"context"
	"net/http"
	"time"

	"github.com/google/uuid"

	"github.com/8949market/market/shared/endpoint"
	"github.com/8949market/market/shared/fault"
	"github.com/8949market/market/shared/platform"
	"github.com/8949market/market/shared/registry"
	"github.com/8949market/market/shared/users"
)

var spec = endpoint.Spec[users.AdminUpdate, users.Modified]{
	Summary: "Change an account (administrators)",
	Description: "Lets an administrator (MANAGER or MASTER) change the `name`, `nickname` or `userRole` of " +
		"account `userId`; anyone else gets 403 `U015` whether or not the account exists. Absent fields " +
		"stay as they are; at least one is needed (400 `C001`). `name` is 1 to 20 Latin or Hangul letters, " +
		"`nickname` 1 to 20 letters or digits; `userRole` is `USER`, `MANAGER` or `MASTER` (any case, " +
		"`ROLE_` prefix accepted; an unknown role is 404 `U019`).\n\n" +
		"A MANAGER manages ordinary accounts and their own name and nickname. Only a MASTER changes " +
		"another administrator's account (403 `U030`) or grants or takes away MANAGER or MASTER (403 " +
		"`U016`), and the last MASTER cannot be demoted (409 `U029`). A role change signs the account " +
		"out everywhere: its access tokens stop working at once and its refresh tokens cannot be " +
		"reissued, so its next login carries the new role.",
	PathID:  "userId",
	Example: &users.AdminUpdate{Nickname: new("alicetrader"), UserRole: new("MANAGER")},
	Errors: []*fault.Error{
		users.ErrAdminRequired, fault.ErrValidation, users.ErrOtherAdmin,
		users.ErrNameRequired, users.ErrNamePattern, users.ErrNicknameRequired, users.ErrNicknamePattern,
		users.ErrRoleNotFound, users.ErrRoleGrant, users.ErrNotFound, users.ErrLastMaster,
	},
	Answer: &users.Modified{
		UserID:     uuid.MustParse("0b8f5a2e-3c41-4d7a-9e62-5f1c8a3b7d90"),
		ModifiedAt: time.Date(2026, 11, 22, 8, 30, 5, 0, time.UTC),
		ModifiedBy: uuid.MustParse("6d2e9f14-8b3a-4c57-a1e0-7f4b2c9d8e35"),
	},
}

func init() {
	registry.HTTP("users-update", "PATCH /api/v1/users/{userId}", New, spec.Doc())
}

// New builds the handler.
func New(kit *platform.Kit) http.Handler {
	store := users.NewStore(kit.DB, kit.Config.AccessTokenTTL)
	return endpoint.Handle(kit, spec, func(ctx context.Context, r endpoint.Request[users.AdminUpdate]) (users.Modified, error) {
		return users.Update(ctx, store, kit.Denylist, r.Who, r.ID, r.Body, time.Now())
	})
}
