// Package remove is the function users-delete: DELETE /api/v1/users/{userId} removes an
// account, on the request of the user themself or an administrator (only a MASTER removes
// another administrator, U030, and never the last MASTER). Its tokens stop working at
// once, and stay refused whatever happens to Redis (users.Remove).
package remove

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

var spec = endpoint.Spec[endpoint.None, users.Deleted]{
	Summary: "Delete an account",
	Description: "Deletes the account `userId`, on the request of the user themself or an administrator " +
		"(MANAGER or MASTER); anyone else gets 403 `U024` whether or not the account exists. A MANAGER " +
		"deletes ordinary accounts and their own; only a MASTER deletes another administrator (403 " +
		"`U030`), and the last MASTER cannot be deleted (409 `U029`).\n\n" +
		"The account's chat time ranges go with it, its sessions end and every access token it holds " +
		"stops working at once; its username is free for a new signup. The deleted account is 404 `U017` from then on.",
	PathID: "userId",
	Errors: []*fault.Error{users.ErrMayNotUpdate, users.ErrOtherAdmin, users.ErrNotFound, users.ErrLastMaster},
	Answer: &users.Deleted{
		UserID:    uuid.MustParse("0b8f5a2e-3c41-4d7a-9e62-5f1c8a3b7d90"),
		DeletedAt: time.Date(2026, 11, 22, 8, 30, 5, 0, time.UTC),
		DeletedBy: uuid.MustParse("0b8f5a2e-3c41-4d7a-9e62-5f1c8a3b7d90"),
	},
}

func init() {
	registry.HTTP("users-delete", "DELETE /api/v1/users/{userId}", New, spec.Doc())
}

// New builds the handler.
func New(kit *platform.Kit) http.Handler {
	store := users.NewStore(kit.DB, kit.Config.AccessTokenTTL)
	return endpoint.Handle(kit, spec, func(ctx context.Context, r endpoint.Request[endpoint.None]) (users.Deleted, error) {
		return users.Remove(ctx, store, kit.Denylist, r.Who, r.ID, time.Now())
	})
}
