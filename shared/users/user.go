// Package users is the identity domain: accounts, their roles and chat availability, and
// the rules for who may see and change which account. It owns the users schema.
//
// A User's methods are its state changes; each checks its own rule and returns a named
// fault. The store loads a user, lets a change run on it under a row lock and writes it
// back (Store.Update), so the rule stays here and the locking stays in the store.
package users

import (
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/fault"
	"github.com/8949market/market/shared/postgres"
)

// The user faults: the reference's U001–U028, plus U029 and U030.
var (
	ErrUsernameRequired     = fault.New(fault.Invalid, "U001", "username is required")
	ErrUsernamePattern      = fault.New(fault.Invalid, "U002", "username must be 8 to 12 letters or digits")
	ErrPasswordRequired     = fault.New(fault.Invalid, "U003", "password is required")
	ErrPasswordPattern      = fault.New(fault.Invalid, "U004", `password must be 8 to 20 characters: letters, digits or !@#$%^&*()_+-=[]{};':"\|,.<>/?`)
	ErrRoleRequired         = fault.New(fault.Invalid, "U005", "userRole is required")
	ErrRolePattern          = fault.New(fault.Invalid, "U006", "userRole must be USER, MANAGER or MASTER")
	ErrNameRequired         = fault.New(fault.Invalid, "U007", "name is required")
	ErrNamePattern          = fault.New(fault.Invalid, "U008", "name must be 1 to 20 letters (Latin or Hangul)")
	ErrNicknameRequired     = fault.New(fault.Invalid, "U009", "nickname is required")
	ErrNicknamePattern      = fault.New(fault.Invalid, "U010", "nickname must be 1 to 20 letters or digits (Latin or Hangul)")
	ErrChatRangesRequired   = fault.New(fault.Invalid, "U011", "at least one chat time range is required")
	ErrDayRequired          = fault.New(fault.Invalid, "U012", "dayOfWeek is required")
	ErrStartRequired        = fault.New(fault.Invalid, "U013", "startTime is required")
	ErrEndRequired          = fault.New(fault.Invalid, "U014", "endTime is required")
	ErrAdminRequired        = fault.New(fault.Forbidden, "U015", "administrator access required")
	ErrRoleGrant            = fault.New(fault.Forbidden, "U016", "only a MASTER may grant or take away an administrator role")
	ErrNotFound             = fault.New(fault.NotFound, "U017", "user not found")
	ErrDuplicate            = fault.New(fault.Conflict, "U018", "username is already taken")
	ErrRoleNotFound         = fault.New(fault.NotFound, "U019", "no such role")
	ErrBadCredentials       = fault.New(fault.Unauthenticated, "U020", "username or password is incorrect")
	ErrAccessTokenRequired  = fault.New(fault.Invalid, "U021", "accessToken is required")
	ErrRefreshTokenRequired = fault.New(fault.Invalid, "U022", "refreshToken is required")
	ErrSave                 = fault.New(fault.Internal, "U023", "the user could not be saved")
	ErrMayNotUpdate         = fault.New(fault.Forbidden, "U024", "you may not change this user")
	ErrRangeOrder           = fault.New(fault.Invalid, "U025", "startTime must be before endTime")
	ErrRangeOverlap         = fault.New(fault.Conflict, "U026", "chat time ranges on the same day may not overlap")
	ErrChatDateRequired     = fault.New(fault.Invalid, "U027", "chatDate is required")
	ErrChatTimeRequired     = fault.New(fault.Invalid, "U028", "chatTime is required")
	ErrLastMaster           = fault.New(fault.Conflict, "U029", "the last MASTER account cannot be removed or demoted")
	ErrOtherAdmin           = fault.New(fault.Forbidden, "U030", "only a MASTER may change or delete another administrator")

	// ErrBadCredentials (U020) means sign-in refused: a failed login, whether the username
	// exists or not, and a reissue whose genuine tokens may not go on. A request without a
	// caller is fault.ErrUnauthenticated (C002), checked by endpoint.Handle.
	ErrForeignSession = ErrBadCredentials.WithMessage("the access token does not belong to this session")
	ErrAccountGone    = ErrBadCredentials.WithMessage("the account no longer exists")
	ErrSessionEnded   = ErrBadCredentials.WithMessage("the session ended when the account changed; log in again")
	// ErrNothingToUpdate is an update request without any field.
	ErrNothingToUpdate = fault.ErrValidation.WithMessage("nothing to update: give at least one field")
)

var (
	usernameRule = regexp.MustCompile(`^[A-Za-z0-9]{8,12}$`)
	passwordRule = regexp.MustCompile(`^[A-Za-z0-9!@#$%^&*()_+\-=\[\]{};':"\\|,.<>/?]{8,20}$`)
	nameRule     = regexp.MustCompile(`^[A-Za-z가-힣]{1,20}$`)
	nicknameRule = regexp.MustCompile(`^[A-Za-z0-9가-힣]{1,20}$`)
)

// User is an account.
type User struct {
	ID           uuid.UUID
	Username     string
	PasswordHash string
	Role         auth.Role
	Name         string
	Nickname     string
	// TokenVersion is raised by every change that must end the user's sessions.
	TokenVersion   int64
	ChatTimeRanges []ChatTimeRange
	CreatedAt      time.Time
	CreatedBy      uuid.UUID
	ModifiedAt     time.Time
	ModifiedBy     uuid.UUID
	DeletedAt      *time.Time
	DeletedBy      *uuid.UUID

	revoke bool // a change raised TokenVersion
}

// TokensRevoked reports whether a change made to u voids its existing tokens, which the
// caller must then revoke (auth.Denylist.RevokeUser with u.TokenVersion).
func (u *User) TokensRevoked() bool { return u.revoke }

func (u *User) raiseVersion() {
	if !u.revoke {
		u.TokenVersion++
		u.revoke = true
	}
}

// ParseRole reads a role as the original accepted it: USER, MANAGER or MASTER, with or
// without the ROLE_ prefix, in any case, or by its Korean label.
func ParseRole(s string) (auth.Role, bool) {
	s = strings.TrimSpace(s)
	switch s {
	case "일반 사용자":
		return auth.RoleUser, true
	case "관리자":
		return auth.RoleManager, true
	case "총관리자":
		return auth.RoleMaster, true
	}
	r := auth.Role(strings.TrimPrefix(strings.ToUpper(s), "ROLE_"))
	return r, r.Valid()
}

// isAdminRole reports whether r is MANAGER or MASTER.
func isAdminRole(r auth.Role) bool { return r == auth.RoleManager || r == auth.RoleMaster }

func blank(p *string) bool { return p == nil || strings.TrimSpace(*p) == "" }

func checkUsername(p *string) (string, error) {
	if blank(p) {
		return "", ErrUsernameRequired.OnField("username")
	}
	if !usernameRule.MatchString(*p) {
		return "", ErrUsernamePattern.OnField("username")
	}
	return *p, nil
}

func checkPassword(p *string) (string, error) {
	if blank(p) {
		return "", ErrPasswordRequired.OnField("password")
	}
	if !passwordRule.MatchString(*p) {
		return "", ErrPasswordPattern.OnField("password")
	}
	return *p, nil
}

func checkName(p *string) (string, error) {
	if blank(p) {
		return "", ErrNameRequired.OnField("name")
	}
	if !nameRule.MatchString(*p) || utf8.RuneCountInString(*p) > 20 {
		return "", ErrNamePattern.OnField("name")
	}
	return *p, nil
}

func checkNickname(p *string) (string, error) {
	if blank(p) {
		return "", ErrNicknameRequired.OnField("nickname")
	}
	if !nicknameRule.MatchString(*p) {
		return "", ErrNicknamePattern.OnField("nickname")
	}
	return *p, nil
}

// Signup is a new account as requested. Pointers tell a missing field from an empty one.
type Signup struct {
	Username       *string       `json:"username"`
	Password       *string       `json:"password"`
	UserRole       *string       `json:"userRole"`
	Name           *string       `json:"name"`
	Nickname       *string       `json:"nickname"`
	ChatTimeRanges *[]RangeInput `json:"chatTimeRanges"`
}

// New validates s and returns the account it asks for, its password hashed with pw. The
// caller, if any, decides whether an administrator role may be given: only a MASTER may
// create a MANAGER or a MASTER.
func New(s Signup, caller *auth.Identity, pw *Passwords, now time.Time) (User, error) {
	username, err := checkUsername(s.Username)
	if err != nil {
		return User{}, err
	}
	password, err := checkPassword(s.Password)
	if err != nil {
		return User{}, err
	}
	if blank(s.UserRole) {
		return User{}, ErrRoleRequired.OnField("userRole")
	}
	role, ok := ParseRole(*s.UserRole)
	if !ok {
		return User{}, ErrRolePattern.OnField("userRole")
	}
	name, err := checkName(s.Name)
	if err != nil {
		return User{}, err
	}
	nickname, err := checkNickname(s.Nickname)
	if err != nil {
		return User{}, err
	}
	if s.ChatTimeRanges == nil || len(*s.ChatTimeRanges) == 0 {
		return User{}, ErrChatRangesRequired.OnField("chatTimeRanges")
	}
	ranges, err := ParseRanges(*s.ChatTimeRanges)
	if err != nil {
		return User{}, err
	}
	if isAdminRole(role) && (caller == nil || caller.Role != auth.RoleMaster) {
		return User{}, ErrRoleGrant.OnField("userRole")
	}
	hash, err := pw.Hash(password)
	if err != nil {
		return User{}, err
	}
	id := uuid.New()
	createdBy := id
	if caller != nil {
		createdBy = caller.UserID
	}
	now = postgres.Time(now)
	return User{
		ID: id, Username: username, PasswordHash: hash, Role: role, Name: name, Nickname: nickname,
		ChatTimeRanges: ranges,
		CreatedAt:      now, CreatedBy: createdBy, ModifiedAt: now, ModifiedBy: createdBy,
	}, nil
}

// SelfUpdate is what a user may change of their own account; absent fields stay.
type SelfUpdate struct {
	Name           *string       `json:"name"`
	Nickname       *string       `json:"nickname"`
	Password       *string       `json:"password"`
	ChatTimeRanges *[]RangeInput `json:"chatTimeRanges"`
}

// UpdateSelf applies a user's change to their own account. A new password ends every
// session of the account, this one included.
func (u *User) UpdateSelf(c SelfUpdate, pw *Passwords, now time.Time) error {
	if c.Name == nil && c.Nickname == nil && c.Password == nil && c.ChatTimeRanges == nil {
		return ErrNothingToUpdate
	}
	if err := u.rename(c.Name, c.Nickname); err != nil {
		return err
	}
	if c.Password != nil {
		password, err := checkPassword(c.Password)
		if err != nil {
			return err
		}
		hash, err := pw.Hash(password)
		if err != nil {
			return err
		}
		u.PasswordHash = hash
		u.raiseVersion()
	}
	if c.ChatTimeRanges != nil {
		if len(*c.ChatTimeRanges) == 0 {
			return ErrChatRangesRequired.OnField("chatTimeRanges")
		}
		ranges, err := ParseRanges(*c.ChatTimeRanges)
		if err != nil {
			return err
		}
		u.ChatTimeRanges = ranges
	}
	u.touch(u.ID, now)
	return nil
}

// AdminUpdate is what an administrator may change of an account; absent fields stay.
type AdminUpdate struct {
	Name     *string `json:"name"`
	Nickname *string `json:"nickname"`
	UserRole *string `json:"userRole"`
}

// UpdateByAdmin applies an administrator's change. Only a MASTER may change another
// administrator's account (a MANAGER renaming or deleting a MANAGER would take MANAGER
// away by another name), or grant or take away MANAGER or MASTER. A role change ends the
// account's sessions, so its next token carries the new role.
func (u *User) UpdateByAdmin(c AdminUpdate, caller auth.Identity, now time.Time) error {
	if !caller.IsAdmin() {
		return ErrAdminRequired
	}
	if c.Name == nil && c.Nickname == nil && c.UserRole == nil {
		return ErrNothingToUpdate
	}
	if err := mayManage(caller, u); err != nil {
		return err
	}
	if err := u.rename(c.Name, c.Nickname); err != nil {
		return err
	}
	if c.UserRole != nil {
		role, ok := ParseRole(*c.UserRole)
		if !ok {
			return ErrRoleNotFound.OnField("userRole")
		}
		if role != u.Role {
			if (isAdminRole(role) || isAdminRole(u.Role)) && caller.Role != auth.RoleMaster {
				return ErrRoleGrant.OnField("userRole")
			}
			u.Role = role
			u.raiseVersion()
		}
	}
	u.touch(caller.UserID, now)
	return nil
}

// Delete removes the account on caller's request: the user themself or an administrator;
// only a MASTER may remove another administrator. Its chat availability goes and its
// sessions end.
func (u *User) Delete(caller auth.Identity, now time.Time) error {
	if !caller.Owns(u.ID) && !caller.IsAdmin() {
		return ErrMayNotUpdate
	}
	if err := mayManage(caller, u); err != nil {
		return err
	}
	now = postgres.Time(now)
	by := caller.UserID
	u.DeletedAt, u.DeletedBy = &now, &by
	u.ChatTimeRanges = nil
	u.raiseVersion()
	u.touch(by, now)
	return nil
}

// mayManage refuses an administrator's change to another administrator's account unless
// the caller is a MASTER. Their own account is left to the other rules (a MANAGER may
// rename or delete themself, never change their own role).
func mayManage(caller auth.Identity, u *User) error {
	if isAdminRole(u.Role) && !caller.Owns(u.ID) && caller.Role != auth.RoleMaster {
		return ErrOtherAdmin
	}
	return nil
}

// rename sets the name and nickname that are given, each checked by its rule.
func (u *User) rename(name, nickname *string) error {
	if name != nil {
		n, err := checkName(name)
		if err != nil {
			return err
		}
		u.Name = n
	}
	if nickname != nil {
		n, err := checkNickname(nickname)
		if err != nil {
			return err
		}
		u.Nickname = n
	}
	return nil
}

func (u *User) touch(by uuid.UUID, now time.Time) {
	u.ModifiedAt, u.ModifiedBy = postgres.Time(now), by
}

// CanRead reports whether caller may see u's account: the user themself or an
// administrator. Ids are compared, never role strings, for ownership.
func CanRead(caller auth.Identity, userID uuid.UUID) bool {
	return caller.Owns(userID) || caller.IsAdmin()
}
