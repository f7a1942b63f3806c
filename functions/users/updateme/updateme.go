// Package updateme is the function users-update-me: PATCH /api/v1/users/me changes the
// caller's name, nickname, password or chat availability. A new password signs the
// account out everywhere, this session included (users.UpdateMe).
package updateme

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

var spec = endpoint.Spec[users.SelfUpdate, users.Modified]{
	Summary: "Change my account",
	Description: "Changes the caller's own `name`, `nickname`, `password` or `chatTimeRanges`. Absent fields " +
		"stay as they are; at least one is needed (400 `C001`). The role cannot be changed here.\n\n" +
		"`name` is 1 to 20 Latin or Hangul letters, `nickname` 1 to 20 letters or digits, `password` 8 to 20 " +
		"letters, digits or `!@#$%^&*()_+-=[]{};':\"\\|,.<>/?`. `chatTimeRanges`, when given, replaces every " +
		"range: 1 to 50 weekly ranges, each a `dayOfWeek` (`MONDAY` to `SUNDAY`) with `startTime` before " +
		"`endTime` (`HH:MM` or `HH:MM:SS`, the end excluded); ranges of one day may touch but not overlap " +
		"(409 `U026`).\n\n" +
		"A new password signs the account out everywhere, this session included: every access token stops " +
		"working at once and no refresh token can be reissued, so log in again with the new password.",
	Example: &users.SelfUpdate{
		Nickname: new("alicetrader"),
		ChatTimeRanges: &[]users.RangeInput{
			{DayOfWeek: new("MONDAY"), StartTime: new("19:00"), EndTime: new("21:00")},
			{DayOfWeek: new("SATURDAY"), StartTime: new("10:00"), EndTime: new("12:30")},
		},
	},
	Errors: []*fault.Error{
		fault.ErrValidation,
		users.ErrNameRequired, users.ErrNamePattern, users.ErrNicknameRequired, users.ErrNicknamePattern,
		users.ErrPasswordRequired, users.ErrPasswordPattern,
		users.ErrChatRangesRequired, users.ErrDayRequired, users.ErrStartRequired, users.ErrEndRequired,
		users.ErrRangeOrder, users.ErrRangeOverlap, users.ErrNotFound,
	},
	Answer: &users.Modified{
		UserID:     uuid.MustParse("0b8f5a2e-3c41-4d7a-9e62-5f1c8a3b7d90"),
		ModifiedAt: time.Date(2026, 11, 22, 8, 30, 5, 0, time.UTC),
		ModifiedBy: uuid.MustParse("0b8f5a2e-3c41-4d7a-9e62-5f1c8a3b7d90"),
	},
}

func init() {
	registry.HTTP("users-update-me", "PATCH /api/v1/users/me", New, spec.Doc())
}

// New builds the handler.
func New(kit *platform.Kit) http.Handler {
	store, pw := users.NewStore(kit.DB, kit.Config.AccessTokenTTL), users.MustPasswords(kit.Config.BcryptCost)
	return endpoint.Handle(kit, spec, func(ctx context.Context, r endpoint.Request[users.SelfUpdate]) (users.Modified, error) {
		return users.UpdateMe(ctx, store, kit.Denylist, pw, r.Who, r.Body, time.Now())
	})
}
