// Package signup is the function auth-signup: POST /api/v1/auth/signup creates an
// account (users.Register). Anyone may sign up as a USER; a MANAGER or MASTER account
// needs a MASTER's access token on the request.
package signup

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

var spec = endpoint.Spec[users.Signup, users.Created]{
	Summary: "Create an account",
	Description: "Creates an account. Anyone may sign up as a `USER` without a token; a `MANAGER` or " +
		"`MASTER` account needs a MASTER's access token on the request (otherwise 403 `U016`). A token, " +
		"if sent, must be valid and unrevoked (401 `C002`); `createdBy` is then its user, else the new " +
		"account itself. The answer is 201; log in with `POST /api/v1/auth/login`.\n\n" +
		"Every field is required: `username` 8 to 12 letters or digits, unique in any case (409 `U018`); " +
		"`password` 8 to 20 letters, digits or `!@#$%^&*()_+-=[]{};':\"\\|,.<>/?`; `userRole` `USER`, " +
		"`MANAGER` or `MASTER` (any case, `ROLE_` prefix accepted); `name` 1 to 20 Latin or Hangul letters; " +
		"`nickname` 1 to 20 letters or digits; `chatTimeRanges` 1 to 50 weekly ranges in which the user " +
		"chats, each a `dayOfWeek` (`MONDAY` to `SUNDAY`) with `startTime` before `endTime` (`HH:MM` or " +
		"`HH:MM:SS`, the end excluded), ranges of one day touching at most (409 `U026`). The first field " +
		"at fault is named in the error's `field`.",
	Public: true,
	Status: http.StatusCreated,
	Example: &users.Signup{
		Username: new("alice2024"), Password: new("Sunny!day42"), UserRole: new("USER"),
		Name: new("Alice"), Nickname: new("alicek"),
		ChatTimeRanges: &[]users.RangeInput{
			{DayOfWeek: new("MONDAY"), StartTime: new("19:00"), EndTime: new("21:00")},
			{DayOfWeek: new("SATURDAY"), StartTime: new("10:00"), EndTime: new("12:30")},
		},
	},
	Errors: []*fault.Error{
		auth.ErrTokenInvalid,
		users.ErrUsernameRequired, users.ErrUsernamePattern, users.ErrPasswordRequired, users.ErrPasswordPattern,
		users.ErrRoleRequired, users.ErrRolePattern, users.ErrNameRequired, users.ErrNamePattern,
		users.ErrNicknameRequired, users.ErrNicknamePattern, users.ErrChatRangesRequired, fault.ErrValidation,
		users.ErrDayRequired, users.ErrStartRequired, users.ErrEndRequired, users.ErrRangeOrder, users.ErrRangeOverlap,
		users.ErrRoleGrant, users.ErrDuplicate,
	},
	Answer: &users.Created{
		UserID:    uuid.MustParse("0b8f5a2e-3c41-4d7a-9e62-5f1c8a3b7d90"),
		Username:  "alice2024",
		Nickname:  "alicek",
		CreatedAt: time.Date(2026, 11, 20, 9, 15, 0, 0, time.UTC),
		CreatedBy: uuid.MustParse("0b8f5a2e-3c41-4d7a-9e62-5f1c8a3b7d90"),
	},
}

func init() {
	registry.HTTP("auth-signup", "POST /api/v1/auth/signup", New, registry.Public(), spec.Doc())
}

// New builds the handler. The route is public, but a token, if sent, must be valid
// (Verifier.Optional): it is what allows creating an administrator.
func New(kit *platform.Kit) http.Handler {
	store, pw := users.NewStore(kit.DB, kit.Config.AccessTokenTTL), users.MustPasswords(kit.Config.BcryptCost)
	return kit.Verifier.Optional(endpoint.Handle(kit, spec, func(ctx context.Context, r endpoint.Request[users.Signup]) (users.Created, error) {
		return users.Register(ctx, store, pw, r.Who, r.Body, time.Now())
	}))
}
