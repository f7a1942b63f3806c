// Package chatavailability is the function users-chat-availability:
// GET /api/v1/users/{userId}/chat-availability?chatDate=YYYY-MM-DD&chatTime=HH:MM[:SS]
// answers which of a user's chat time ranges cover that moment (start <= time < end on
// that date's weekday). Any signed-in user may ask, so a buyer can see when a seller
// chats; it replaces the original's unauthenticated internal endpoint.
package chatavailability

import (
	"net/http"
	"time"

	"github.com/8949market/market/shared/api"
	"github.com/8949market/market/shared/fault"
	"github.com/8949market/market/shared/platform"
	"github.com/8949market/market/shared/registry"
	"github.com/8949market/market/shared/users"
)

func init() {
	registry.HTTP("users-chat-availability", "GET /api/v1/users/{userId}/chat-availability", New)
}

type answer struct {
	ChatTimeRanges []users.RangeView `json:"chatTimeRanges"`
}

// New builds the handler.
func New(kit *platform.Kit) http.Handler {
	store := users.NewStore(kit.DB, kit.Config.AccessTokenTTL)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := users.ParseID(r.PathValue("userId"))
		if err != nil {
			api.Fail(w, r, err)
			return
		}
		q := r.URL.Query()
		rawDate, rawTime := q.Get("chatDate"), q.Get("chatTime")
		if rawDate == "" {
			api.Fail(w, r, users.ErrChatDateRequired.OnField("chatDate"))
			return
		}
		if rawTime == "" {
			api.Fail(w, r, users.ErrChatTimeRequired.OnField("chatTime"))
			return
		}
		date, err := time.Parse(time.DateOnly, rawDate)
		if err != nil {
			api.Fail(w, r, fault.ErrBadParameter.WithMessage("chatDate must be YYYY-MM-DD").OnField("chatDate"))
			return
		}
		at, ok := users.ParseClock(rawTime)
		if !ok {
			api.Fail(w, r, fault.ErrBadParameter.WithMessage("chatTime must be HH:MM or HH:MM:SS").OnField("chatTime"))
			return
		}
		ranges, err := store.ChatRanges(r.Context(), id, date.Weekday(), &at)
		if err != nil {
			api.Fail(w, r, err)
			return
		}
		api.OK(w, r, answer{ChatTimeRanges: users.Views(ranges)})
	})
}
