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
	"github.com/8949market/market/shared/fault"
	"github.com/8949market/market/shared/platform"
	"github.com/8949market/market/shared/registry"
	"github.com/8949market/market/shared/users"
)

var spec = endpoint.Spec[endpoint.None, users.Availability]{
	Summary: "Check when a user is available to chat",
	Description: "Answers which of user `userId`'s weekly chat time ranges cover `chatTime` on the weekday of " +
		"`chatDate`: the ranges of that day with start ≤ `chatTime` < end, none if the user is not available " +
		"then. Any signed-in user may ask, so a buyer can see when a seller chats. Both parameters are " +
		"required (400 `U027`, `U028`); a malformed one is 400 `C015`. An unknown or deleted user is 404 `U017`.",
	PathID: "userId",
	Query: []registry.Param{
		{Name: "chatDate", Type: "string", Format: "date", Required: true, Example: "2026-11-23",
			Description: "The date, `YYYY-MM-DD`; only its weekday counts."},
		{Name: "chatTime", Type: "string", Required: true, Example: "19:30",
			Description: "The time of day, `HH:MM` or `HH:MM:SS` (24-hour)."},
	},
	Errors: []*fault.Error{users.ErrChatDateRequired, users.ErrChatTimeRequired, fault.ErrBadParameter, users.ErrNotFound},
	Answer: &users.Availability{ChatTimeRanges: []users.RangeView{
		{DayOfWeek: "MONDAY", StartTime: "19:00:00", EndTime: "21:00:00"},
	}},
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
