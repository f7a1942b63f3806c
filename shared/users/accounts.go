package users

import (
	"context"
	"net/url"
	"time"

	"github.com/google/uuid"

	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/fault"
	"github.com/8949market/market/shared/page"
)

// The use cases of the user functions, one a route: each takes the verified caller and
// plain inputs, checks who may do it, and leaves the decoding and the answer to the
// function (endpoint.Handle).

// Register creates the account s asks for (auth-signup). caller is the zero Identity for
// an anonymous signup; only a MASTER may create a MANAGER or MASTER.
func Register(ctx context.Context, st *Store, pw *Passwords, caller auth.Identity, s Signup, now time.Time) (Created, error) {
	var by *auth.Identity
	if caller.UserID != uuid.Nil {
		by = &caller
	}
	u, err := New(s, by, pw, now)
	if err != nil {
		return Created{}, err
	}
	if err := st.Create(ctx, u); err != nil {
		return Created{}, err
	}
	return Created{UserID: u.ID, Username: u.Username, Nickname: u.Nickname, CreatedAt: u.CreatedAt, CreatedBy: u.CreatedBy}, nil
}

// Read returns account id to the user themself or an administrator (users-get, users-me).
// Anyone else is refused before the lookup, so the answer does not tell whether id exists.
func Read(ctx context.Context, st *Store, caller auth.Identity, id uuid.UUID) (Detail, error) {
	if !CanRead(caller, id) {
		return Detail{}, ErrAdminRequired
	}
	u, err := st.Get(ctx, id)
	if err != nil {
		return Detail{}, err
	}
	return u.Detail(), nil
}

// List is a page of the accounts an administrator searches for (users-list). q holds
// keyword, username, name, nickname, userRole, sort, size (1-100, default 20) and cursor.
func List(ctx context.Context, st *Store, caller auth.Identity, q url.Values) (page.Page[Summary], error) {
	if !caller.IsAdmin() {
		return page.Page[Summary]{}, ErrAdminRequired
	}
	f := Filter{Keyword: q.Get("keyword"), Username: q.Get("username"), Name: q.Get("name"), Nickname: q.Get("nickname")}
	if raw := q.Get("userRole"); raw != "" {
		role, ok := ParseRole(raw)
		if !ok {
			return page.Page[Summary]{}, ErrRolePattern.OnField("userRole")
		}
		f.Role = role
	}
	sort, err := ParseSort(q.Get("sort"))
	if err != nil {
		return page.Page[Summary]{}, err
	}
	size, err := page.Size(q, 20, 100)
	if err != nil {
		return page.Page[Summary]{}, err
	}
	return st.Search(ctx, f, sort, size, q.Get("cursor"))
}

// Availability is the answer of users-chat-availability.
type Availability struct {
	ChatTimeRanges []RangeView `json:"chatTimeRanges"`
}

// ChatAvailability answers which of user id's chat time ranges cover chatDate (YYYY-MM-DD)
// at chatTime (HH:MM[:SS]): start <= time < end on that date's weekday. Any signed-in
// user may ask, so a buyer can see when a seller chats.
func ChatAvailability(ctx context.Context, st *Store, id uuid.UUID, chatDate, chatTime string) (Availability, error) {
	if chatDate == "" {
		return Availability{}, ErrChatDateRequired.OnField("chatDate")
	}
	if chatTime == "" {
		return Availability{}, ErrChatTimeRequired.OnField("chatTime")
	}
	date, err := time.Parse(time.DateOnly, chatDate)
	if err != nil {
		return Availability{}, fault.ErrBadParameter.WithMessage("chatDate must be YYYY-MM-DD").OnField("chatDate")
	}
	at, ok := ParseClock(chatTime)
	if !ok {
		return Availability{}, fault.ErrBadParameter.WithMessage("chatTime must be HH:MM or HH:MM:SS").OnField("chatTime")
	}
	ranges, err := st.ChatRanges(ctx, id, date.Weekday(), &at)
	if err != nil {
		return Availability{}, err
	}
	return Availability{ChatTimeRanges: Views(ranges)}, nil
}

// UpdateMe applies the caller's change to their own account (users-update-me). A new
// password signs the account out everywhere, this session included.
func UpdateMe(ctx context.Context, st *Store, deny *auth.Denylist, pw *Passwords, caller auth.Identity, c SelfUpdate, now time.Time) (Modified, error) {
	return change(ctx, st, deny, caller.UserID, func(u *User) error { return u.UpdateSelf(c, pw, now) })
}

// Update applies an administrator's change to account id (users-update); see
// User.UpdateByAdmin for who may change what. A caller who is no administrator is
// refused before the lookup, so the answer does not tell whether id exists.
func Update(ctx context.Context, st *Store, deny *auth.Denylist, caller auth.Identity, id uuid.UUID, c AdminUpdate, now time.Time) (Modified, error) {
	if !caller.IsAdmin() {
		return Modified{}, ErrAdminRequired
	}
	return change(ctx, st, deny, id, func(u *User) error { return u.UpdateByAdmin(c, caller, now) })
}

// Remove deletes account id on the request of the user themself or an administrator
// (users-delete); only a MASTER removes another administrator, and never the last
// MASTER. Its tokens stop working at once. Anyone else is refused before the lookup.
func Remove(ctx context.Context, st *Store, deny *auth.Denylist, caller auth.Identity, id uuid.UUID, now time.Time) (Deleted, error) {
	if !CanRead(caller, id) {
		return Deleted{}, ErrMayNotUpdate
	}
	u, err := st.Update(ctx, id, func(u *User) error { return u.Delete(caller, now) })
	if err != nil {
		return Deleted{}, err
	}
	if err := RevokeTokens(ctx, deny, u, st.accessTTL); err != nil {
		return Deleted{}, err
	}
	return Deleted{UserID: u.ID, DeletedAt: u.DeletedAt.UTC(), DeletedBy: *u.DeletedBy}, nil
}

// change runs do on account id through the store and tells Redis of any revocation.
func change(ctx context.Context, st *Store, deny *auth.Denylist, id uuid.UUID, do func(u *User) error) (Modified, error) {
	u, err := st.Update(ctx, id, do)
	if err != nil {
		return Modified{}, err
	}
	if err := RevokeTokens(ctx, deny, u, st.accessTTL); err != nil {
		return Modified{}, err
	}
	return Modified{UserID: u.ID, ModifiedAt: u.ModifiedAt.UTC(), ModifiedBy: u.ModifiedBy}, nil
}
