package users_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"golang.org/x/crypto/bcrypt"

	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/fault"
	"github.com/8949market/market/shared/users"
)

func TestParseRole(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want auth.Role
		ok   bool
	}{
		{"USER", auth.RoleUser, true},
		{"user", auth.RoleUser, true},
		{"User", auth.RoleUser, true},
		{"MANAGER", auth.RoleManager, true},
		{"MASTER", auth.RoleMaster, true},
		{"ROLE_USER", auth.RoleUser, true},
		{"role_manager", auth.RoleManager, true},
		{"Role_Master", auth.RoleMaster, true},
		{"일반 사용자", auth.RoleUser, true},
		{"관리자", auth.RoleManager, true},
		{"총관리자", auth.RoleMaster, true},
		{"  MASTER  ", auth.RoleMaster, true},
		{" role_user\t", auth.RoleUser, true},
		{" 관리자 ", auth.RoleManager, true},
		{"", "", false},
		{"   ", "", false},
		{"ROLE_", "", false},
		{"ADMIN", "", false},
		{"ROLE_ADMIN", "", false},
		{"ROLE_ROLE_USER", "", false},
		{"USERS", "", false},
		{"총 관리자", "", false},
		{"사용자", "", false},
		{"MAST ER", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, ok := users.ParseRole(tt.in)
			if ok != tt.ok || (ok && got != tt.want) {
				t.Errorf("ParseRole(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
			}
		})
	}
}

// signup is a valid request for a USER, edited by change.
func signup(change func(*users.Signup)) users.Signup {
	s := users.Signup{
		Username: ptr("alice1234"),
		Password: ptr("Passw0rd!"),
		UserRole: ptr("USER"),
		Name:     ptr("Alice"),
		Nickname: ptr("앨리스"),
		ChatTimeRanges: &[]users.RangeInput{
			rng("WEDNESDAY", "13:00", "14:00"),
			rng("MONDAY", "09:00", "18:00:30"),
		},
	}
	if change != nil {
		change(&s)
	}
	return s
}

func TestNewRefuses(t *testing.T) {
	t.Parallel()
	pw := newPasswords(t)
	manager, user := caller(auth.RoleManager), caller(auth.RoleUser)
	tests := []struct {
		name   string
		change func(*users.Signup)
		caller *auth.Identity
		code   string
		field  string
	}{
		// The order of the checks: each case breaks one field and everything after it.
		{"everything missing", func(s *users.Signup) { *s = users.Signup{} }, nil, "U001", "username"},
		{"username blank", func(s *users.Signup) { s.Username = ptr("   ") }, nil, "U001", "username"},
		{"username empty", func(s *users.Signup) { s.Username = ptr("") }, nil, "U001", "username"},
		{"username short, password missing", func(s *users.Signup) { s.Username, s.Password = ptr("alice12"), nil }, nil, "U002", "username"},
		{"username long", func(s *users.Signup) { s.Username = ptr("alice12345678") }, nil, "U002", "username"},
		{"username underscore", func(s *users.Signup) { s.Username = ptr("alice_1234") }, nil, "U002", "username"},
		{"username hangul", func(s *users.Signup) { s.Username = ptr("앨리스앨리스앨리스") }, nil, "U002", "username"},
		{"username padded", func(s *users.Signup) { s.Username = ptr(" alice1234") }, nil, "U002", "username"},
		{"password missing, role missing", func(s *users.Signup) { s.Password, s.UserRole = nil, nil }, nil, "U003", "password"},
		{"password blank", func(s *users.Signup) { s.Password = ptr("        ") }, nil, "U003", "password"},
		{"password short, role bad", func(s *users.Signup) { s.Password, s.UserRole = ptr("Pass0!"), ptr("ADMIN") }, nil, "U004", "password"},
		{"password long", func(s *users.Signup) { s.Password = ptr(strings.Repeat("a", 21)) }, nil, "U004", "password"},
		{"password space", func(s *users.Signup) { s.Password = ptr("pass word1") }, nil, "U004", "password"},
		{"password hangul", func(s *users.Signup) { s.Password = ptr("비밀번호비밀번호") }, nil, "U004", "password"},
		{"password tilde", func(s *users.Signup) { s.Password = ptr("Passw0rd~") }, nil, "U004", "password"},
		{"role missing, name missing", func(s *users.Signup) { s.UserRole, s.Name = nil, nil }, nil, "U005", "userRole"},
		{"role blank", func(s *users.Signup) { s.UserRole = ptr(" ") }, nil, "U005", "userRole"},
		{"role unknown, name bad", func(s *users.Signup) { s.UserRole, s.Name = ptr("ADMIN"), ptr("Al1ce") }, nil, "U006", "userRole"},
		{"role prefix only", func(s *users.Signup) { s.UserRole = ptr("ROLE_") }, nil, "U006", "userRole"},
		{"name missing, nickname missing", func(s *users.Signup) { s.Name, s.Nickname = nil, nil }, nil, "U007", "name"},
		{"name blank", func(s *users.Signup) { s.Name = ptr("  ") }, nil, "U007", "name"},
		{"name digit, nickname bad", func(s *users.Signup) { s.Name, s.Nickname = ptr("Al1ce"), ptr("a b") }, nil, "U008", "name"},
		{"name space", func(s *users.Signup) { s.Name = ptr("Al ice") }, nil, "U008", "name"},
		{"name 21 letters", func(s *users.Signup) { s.Name = ptr(strings.Repeat("가", 21)) }, nil, "U008", "name"},
		{"nickname missing, ranges missing", func(s *users.Signup) { s.Nickname, s.ChatTimeRanges = nil, nil }, nil, "U009", "nickname"},
		{"nickname blank", func(s *users.Signup) { s.Nickname = ptr("") }, nil, "U009", "nickname"},
		{"nickname symbol, ranges empty", func(s *users.Signup) { s.Nickname, s.ChatTimeRanges = ptr("nick!"), &[]users.RangeInput{} }, nil, "U010", "nickname"},
		{"nickname 21", func(s *users.Signup) { s.Nickname = ptr(strings.Repeat("n", 21)) }, nil, "U010", "nickname"},
		{"ranges missing", func(s *users.Signup) { s.ChatTimeRanges = nil }, nil, "U011", "chatTimeRanges"},
		{"ranges empty", func(s *users.Signup) { s.ChatTimeRanges = &[]users.RangeInput{} }, nil, "U011", "chatTimeRanges"},
		{"range without day", func(s *users.Signup) {
			s.ChatTimeRanges = &[]users.RangeInput{{StartTime: ptr("09:00"), EndTime: ptr("10:00")}}
		}, nil, "U012", "chatTimeRanges[0].dayOfWeek"},
		{"ranges overlap", func(s *users.Signup) {
			s.ChatTimeRanges = &[]users.RangeInput{rng("MONDAY", "09:00", "11:00"), rng("MONDAY", "10:00", "12:00")}
		}, nil, "U026", "chatTimeRanges"},
		// The role grant is checked last: a bad range wins over it.
		{"bad range and manager without caller", func(s *users.Signup) {
			s.UserRole = ptr("MANAGER")
			s.ChatTimeRanges = &[]users.RangeInput{rng("MONDAY", "10:00", "10:00")}
		}, nil, "U025", "chatTimeRanges[0].endTime"},
		{"manager without caller", func(s *users.Signup) { s.UserRole = ptr("MANAGER") }, nil, "U016", "userRole"},
		{"master without caller", func(s *users.Signup) { s.UserRole = ptr("ROLE_MASTER") }, nil, "U016", "userRole"},
		{"master label without caller", func(s *users.Signup) { s.UserRole = ptr("총관리자") }, nil, "U016", "userRole"},
		{"manager by a user", func(s *users.Signup) { s.UserRole = ptr("MANAGER") }, &user, "U016", "userRole"},
		{"manager by a manager", func(s *users.Signup) { s.UserRole = ptr("MANAGER") }, &manager, "U016", "userRole"},
		{"master by a manager", func(s *users.Signup) { s.UserRole = ptr("master") }, &manager, "U016", "userRole"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			u, err := users.New(signup(tt.change), tt.caller, pw, time.Now())
			wantFault(t, err, tt.code, tt.field)
			if u.ID != uuid.Nil || u.PasswordHash != "" {
				t.Errorf("refused signup returned a user: %+v", u)
			}
		})
	}
}

func TestNewAccepts(t *testing.T) {
	t.Parallel()
	pw := newPasswords(t)
	manager, master := caller(auth.RoleManager), caller(auth.RoleMaster)
	now := time.Date(2030, 3, 4, 5, 6, 7, 0, time.FixedZone("KST", 9*3600))
	tests := []struct {
		name     string
		change   func(*users.Signup)
		caller   *auth.Identity
		role     auth.Role
		password string
	}{
		{"user without caller", nil, nil, auth.RoleUser, "Passw0rd!"},
		{"user by a manager", func(s *users.Signup) { s.UserRole = ptr("일반 사용자") }, &manager, auth.RoleUser, "Passw0rd!"},
		{"manager by a master", func(s *users.Signup) { s.UserRole = ptr(" 관리자 ") }, &master, auth.RoleManager, "Passw0rd!"},
		{"master by a master", func(s *users.Signup) { s.UserRole = ptr("ROLE_MASTER") }, &master, auth.RoleMaster, "Passw0rd!"},
		{"boundaries", func(s *users.Signup) {
			s.Username = ptr("ABCdef12")
			s.Password = ptr(`!@#$%^&*()_+-=[]{};'`)
			s.Name = ptr(strings.Repeat("가", 20))
			s.Nickname = ptr(strings.Repeat("9", 20))
		}, nil, auth.RoleUser, `!@#$%^&*()_+-=[]{};'`},
		{"more boundaries", func(s *users.Signup) {
			s.Username = ptr("abcdefABCDEF")
			s.Password = ptr(`:"\|,.<>/?a`)
			s.Name = ptr("A")
			s.Nickname = ptr("닉")
		}, nil, auth.RoleUser, `:"\|,.<>/?a`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req := signup(tt.change)
			u, err := users.New(req, tt.caller, pw, now)
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			if u.ID == uuid.Nil || u.Username != *req.Username || u.Role != tt.role || u.Name != *req.Name || u.Nickname != *req.Nickname {
				t.Errorf("user = %+v", u)
			}
			wantBy := u.ID // a self-signup is created by the account itself
			if tt.caller != nil {
				wantBy = tt.caller.UserID
			}
			if u.CreatedBy != wantBy || u.ModifiedBy != wantBy {
				t.Errorf("createdBy %s modifiedBy %s, want %s", u.CreatedBy, u.ModifiedBy, wantBy)
			}
			if !u.CreatedAt.Equal(now) || u.CreatedAt.Location() != time.UTC || !u.ModifiedAt.Equal(u.CreatedAt) {
				t.Errorf("createdAt %v modifiedAt %v, want %v in UTC", u.CreatedAt, u.ModifiedAt, now)
			}
			if u.TokenVersion != 0 || u.TokensRevoked() || u.DeletedAt != nil || u.DeletedBy != nil {
				t.Errorf("fresh user state: version %d revoked %v deleted %v/%v", u.TokenVersion, u.TokensRevoked(), u.DeletedAt, u.DeletedBy)
			}
			// One case verifies the hash: bcrypt is slow under the race detector.
			if u.PasswordHash == tt.password || tt.name == "boundaries" && bcrypt.CompareHashAndPassword([]byte(u.PasswordHash), []byte(tt.password)) != nil {
				t.Errorf("password hash %q does not verify the password", u.PasswordHash)
			}
			if cost, err := bcrypt.Cost([]byte(u.PasswordHash)); err != nil || cost != users.MinCost {
				t.Errorf("bcrypt cost = %d, %v; want %d", cost, err, users.MinCost)
			}
			want := []users.ChatTimeRange{
				{Day: time.Monday, Start: clock(9, 0, 0), End: clock(18, 0, 30)},
				{Day: time.Wednesday, Start: clock(13, 0, 0), End: clock(14, 0, 0)},
			}
			if !equalRanges(u.ChatTimeRanges, want) {
				t.Errorf("ranges = %v, want %v", u.ChatTimeRanges, want)
			}
		})
	}
}

func equalRanges(a, b []users.ChatTimeRange) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestUpdateSelf(t *testing.T) {
	t.Parallel()
	pw := newPasswords(t)
	now := time.Date(2030, 5, 6, 7, 8, 9, 0, time.UTC)
	monday := users.ChatTimeRange{Day: time.Monday, Start: clock(9, 0, 0), End: clock(10, 0, 0)}
	base := func() users.User {
		u := account("alice1234", auth.RoleUser, monday)
		u.TokenVersion = 3
		return u
	}

	t.Run("nothing given", func(t *testing.T) {
		t.Parallel()
		u := base()
		err := u.UpdateSelf(users.SelfUpdate{}, pw, now)
		wantFault(t, err, "C001", "")
		if !errors.Is(err, users.ErrNothingToUpdate) || !errors.Is(err, fault.ErrValidation) {
			t.Errorf("err = %v, want ErrNothingToUpdate", err)
		}
		if u.TokenVersion != 3 || u.TokensRevoked() || u.ModifiedAt.Equal(now) {
			t.Errorf("refused change touched the user: %+v", u)
		}
	})

	t.Run("password raises the version once", func(t *testing.T) {
		t.Parallel()
		u := base()
		oldHash := u.PasswordHash
		if err := u.UpdateSelf(users.SelfUpdate{Password: ptr("N3wPassword!")}, pw, now); err != nil {
			t.Fatal(err)
		}
		if u.TokenVersion != 4 || !u.TokensRevoked() {
			t.Errorf("version %d revoked %v, want 4 true", u.TokenVersion, u.TokensRevoked())
		}
		if u.PasswordHash == oldHash || bcrypt.CompareHashAndPassword([]byte(u.PasswordHash), []byte("N3wPassword!")) != nil {
			t.Errorf("new hash %q does not verify the new password", u.PasswordHash)
		}
		if !u.ModifiedAt.Equal(now) || u.ModifiedBy != u.ID {
			t.Errorf("modified %v by %s, want %v by the user", u.ModifiedAt, u.ModifiedBy, now)
		}
	})

	t.Run("password with everything else raises the version once", func(t *testing.T) {
		t.Parallel()
		u := base()
		err := u.UpdateSelf(users.SelfUpdate{
			Name: ptr("Alicia"), Nickname: ptr("ali"), Password: ptr("N3wPassword!"),
			ChatTimeRanges: &[]users.RangeInput{rng("friday", "20:00", "21:00")},
		}, pw, now)
		if err != nil {
			t.Fatal(err)
		}
		if u.TokenVersion != 4 || !u.TokensRevoked() || u.Name != "Alicia" || u.Nickname != "ali" {
			t.Errorf("user = %+v", u)
		}
		want := []users.ChatTimeRange{{Day: time.Friday, Start: clock(20, 0, 0), End: clock(21, 0, 0)}}
		if !equalRanges(u.ChatTimeRanges, want) {
			t.Errorf("ranges = %v, want %v", u.ChatTimeRanges, want)
		}
	})

	t.Run("name only keeps the version", func(t *testing.T) {
		t.Parallel()
		u := base()
		oldHash := u.PasswordHash
		if err := u.UpdateSelf(users.SelfUpdate{Name: ptr("Alicia")}, pw, now); err != nil {
			t.Fatal(err)
		}
		if u.Name != "Alicia" || u.TokenVersion != 3 || u.TokensRevoked() || u.PasswordHash != oldHash {
			t.Errorf("user = %+v revoked %v", u, u.TokensRevoked())
		}
		if !equalRanges(u.ChatTimeRanges, []users.ChatTimeRange{monday}) {
			t.Errorf("ranges changed: %v", u.ChatTimeRanges)
		}
	})

	t.Run("ranges replace all", func(t *testing.T) {
		t.Parallel()
		u := base()
		err := u.UpdateSelf(users.SelfUpdate{ChatTimeRanges: &[]users.RangeInput{
			rng("SUNDAY", "10:00", "11:00"), rng("TUESDAY", "08:00:00", "08:30:00"),
		}}, pw, now)
		if err != nil {
			t.Fatal(err)
		}
		want := []users.ChatTimeRange{
			{Day: time.Tuesday, Start: clock(8, 0, 0), End: clock(8, 30, 0)},
			{Day: time.Sunday, Start: clock(10, 0, 0), End: clock(11, 0, 0)},
		}
		if !equalRanges(u.ChatTimeRanges, want) || u.TokenVersion != 3 {
			t.Errorf("ranges = %v version %d, want %v and 3", u.ChatTimeRanges, u.TokenVersion, want)
		}
	})

	refusals := []struct {
		name   string
		change users.SelfUpdate
		code   string
		field  string
	}{
		{"empty ranges", users.SelfUpdate{ChatTimeRanges: &[]users.RangeInput{}}, "U011", "chatTimeRanges"},
		{"bad range", users.SelfUpdate{ChatTimeRanges: &[]users.RangeInput{rng("MONDAY", "10:00", "09:00")}}, "U025", "chatTimeRanges[0].endTime"},
		{"bad name", users.SelfUpdate{Name: ptr("Al1ce")}, "U008", "name"},
		{"blank name", users.SelfUpdate{Name: ptr(" ")}, "U007", "name"},
		{"blank nickname", users.SelfUpdate{Nickname: ptr("")}, "U009", "nickname"},
		{"bad nickname", users.SelfUpdate{Nickname: ptr("nick name")}, "U010", "nickname"},
		{"blank password", users.SelfUpdate{Password: ptr("")}, "U003", "password"},
		{"bad password", users.SelfUpdate{Password: ptr("short")}, "U004", "password"},
	}
	for _, tt := range refusals {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			u := base()
			wantFault(t, u.UpdateSelf(tt.change, pw, now), tt.code, tt.field)
			if u.TokenVersion != 3 || u.TokensRevoked() {
				t.Errorf("refused change raised the version to %d", u.TokenVersion)
			}
		})
	}
}

func TestUpdateByAdmin(t *testing.T) {
	t.Parallel()
	now := time.Date(2030, 5, 6, 7, 8, 9, 0, time.UTC)
	const (
		U = auth.RoleUser
		M = auth.RoleManager
		X = auth.RoleMaster
	)
	tests := []struct {
		name   string
		caller auth.Role
		self   bool // the caller edits their own account
		target auth.Role
		change users.AdminUpdate
		code   string // "" when allowed
		field  string
		role   auth.Role // the role afterwards, when allowed
		bump   bool      // the change raises the token version
	}{
		{"user caller", U, false, U, users.AdminUpdate{Name: ptr("Bob")}, "U015", "", "", false},
		{"user caller on self", U, true, U, users.AdminUpdate{Name: ptr("Bob")}, "U015", "", "", false},
		{"user caller grants self master", U, true, U, users.AdminUpdate{UserRole: ptr("MASTER")}, "U015", "", "", false},
		{"nothing given", X, false, U, users.AdminUpdate{}, "C001", "", "", false},
		{"manager renames master", M, false, X, users.AdminUpdate{Name: ptr("Bob")}, "U030", "", "", false},
		{"manager gives master its own role", M, false, X, users.AdminUpdate{UserRole: ptr("MASTER")}, "U030", "", "", false},
		{"manager grants manager", M, false, U, users.AdminUpdate{UserRole: ptr("MANAGER")}, "U016", "userRole", "", false},
		{"manager grants manager label", M, false, U, users.AdminUpdate{UserRole: ptr("관리자")}, "U016", "userRole", "", false},
		{"manager grants master label", M, false, U, users.AdminUpdate{UserRole: ptr("총관리자")}, "U016", "userRole", "", false},
		{"manager demotes manager", M, false, M, users.AdminUpdate{UserRole: ptr("USER")}, "U030", "", "", false},
		{"manager demotes self", M, true, M, users.AdminUpdate{UserRole: ptr("USER")}, "U016", "userRole", "", false},
		{"manager promotes manager", M, false, M, users.AdminUpdate{UserRole: ptr("MASTER")}, "U030", "", "", false},
		{"manager promotes self", M, true, M, users.AdminUpdate{UserRole: ptr("MASTER")}, "U016", "userRole", "", false},
		{"manager unknown role", M, false, U, users.AdminUpdate{UserRole: ptr("ROLE_")}, "U019", "userRole", "", false},
		{"master unknown role", X, false, U, users.AdminUpdate{UserRole: ptr("ADMIN")}, "U019", "userRole", "", false},
		{"bad name", X, false, U, users.AdminUpdate{Name: ptr("B0b")}, "U008", "name", "", false},
		{"bad nickname", X, false, U, users.AdminUpdate{Nickname: ptr("b o b")}, "U010", "nickname", "", false},
		{"manager renames user", M, false, U, users.AdminUpdate{Name: ptr("Bob"), Nickname: ptr("bobby")}, "", "", U, false},
		{"manager renames manager", M, false, M, users.AdminUpdate{Name: ptr("Bob")}, "U030", "", "", false},
		{"manager renames manager, bad name", M, false, M, users.AdminUpdate{Name: ptr("B0b")}, "U030", "", "", false},
		{"manager renames self", M, true, M, users.AdminUpdate{Name: ptr("Bob"), Nickname: ptr("bobby")}, "", "", M, false},
		{"manager same role again", M, false, U, users.AdminUpdate{UserRole: ptr("role_user")}, "", "", U, false},
		{"manager same admin role again", M, false, M, users.AdminUpdate{UserRole: ptr("MANAGER")}, "U030", "", "", false},
		{"manager same admin role again on self", M, true, M, users.AdminUpdate{UserRole: ptr("MANAGER")}, "", "", M, false},
		{"master renames another master", X, false, X, users.AdminUpdate{Nickname: ptr("boss")}, "", "", X, false},
		{"master renames manager", X, false, M, users.AdminUpdate{Name: ptr("Bob")}, "", "", M, false},
		{"master grants manager", X, false, U, users.AdminUpdate{UserRole: ptr("MANAGER")}, "", "", M, true},
		{"master grants master by label", X, false, M, users.AdminUpdate{UserRole: ptr("총관리자")}, "", "", X, true},
		{"master demotes master", X, false, X, users.AdminUpdate{UserRole: ptr("ROLE_USER")}, "", "", U, true},
		{"master demotes manager", X, false, M, users.AdminUpdate{UserRole: ptr("일반 사용자")}, "", "", U, true},
		{"master renames master", X, false, X, users.AdminUpdate{Name: ptr("Bob")}, "", "", X, false},
		{"master same role again", X, false, X, users.AdminUpdate{UserRole: ptr("master")}, "", "", X, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			u := account("target123", tt.target)
			u.TokenVersion = 5
			who := caller(tt.caller)
			if tt.self {
				who.UserID = u.ID
			}
			err := u.UpdateByAdmin(tt.change, who, now)
			if tt.code != "" {
				wantFault(t, err, tt.code, tt.field)
				if u.TokenVersion != 5 || u.TokensRevoked() {
					t.Errorf("refused change raised the version to %d", u.TokenVersion)
				}
				return
			}
			if err != nil {
				t.Fatalf("UpdateByAdmin: %v", err)
			}
			wantVersion := int64(5)
			if tt.bump {
				wantVersion = 6
			}
			if u.Role != tt.role || u.TokenVersion != wantVersion || u.TokensRevoked() != tt.bump {
				t.Errorf("role %s version %d revoked %v; want %s %d %v", u.Role, u.TokenVersion, u.TokensRevoked(), tt.role, wantVersion, tt.bump)
			}
			if tt.change.Name != nil && u.Name != *tt.change.Name || tt.change.Nickname != nil && u.Nickname != *tt.change.Nickname {
				t.Errorf("name %q nickname %q not applied", u.Name, u.Nickname)
			}
			if !u.ModifiedAt.Equal(now) || u.ModifiedBy != who.UserID {
				t.Errorf("modified %v by %s, want %v by the caller", u.ModifiedAt, u.ModifiedBy, now)
			}
		})
	}
}

func TestDelete(t *testing.T) {
	t.Parallel()
	now := time.Date(2030, 5, 6, 7, 8, 9, 0, time.FixedZone("KST", 9*3600))
	tests := []struct {
		name   string
		caller auth.Role
		self   bool
		target auth.Role
		code   string // "" when allowed
	}{
		{"self", auth.RoleUser, true, auth.RoleUser, ""},
		{"self manager", auth.RoleManager, true, auth.RoleManager, ""},
		{"self master", auth.RoleMaster, true, auth.RoleMaster, ""},
		{"manager deletes user", auth.RoleManager, false, auth.RoleUser, ""},
		{"master deletes master", auth.RoleMaster, false, auth.RoleMaster, ""},
		{"master deletes manager", auth.RoleMaster, false, auth.RoleManager, ""},
		{"master deletes user", auth.RoleMaster, false, auth.RoleUser, ""},
		{"other user", auth.RoleUser, false, auth.RoleUser, "U024"},
		{"user deletes manager", auth.RoleUser, false, auth.RoleManager, "U024"},
		{"manager deletes manager", auth.RoleManager, false, auth.RoleManager, "U030"},
		{"manager deletes master", auth.RoleManager, false, auth.RoleMaster, "U030"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			u := account("target123", tt.target, users.ChatTimeRange{Day: time.Monday, Start: clock(9, 0, 0), End: clock(10, 0, 0)})
			u.TokenVersion = 2
			who := caller(tt.caller)
			if tt.self {
				who.UserID = u.ID
			}
			err := u.Delete(who, now)
			if tt.code != "" {
				wantFault(t, err, tt.code, "")
				if u.DeletedAt != nil || u.DeletedBy != nil || u.TokenVersion != 2 || len(u.ChatTimeRanges) != 1 {
					t.Errorf("refused deletion changed the user: %+v", u)
				}
				return
			}
			if err != nil {
				t.Fatalf("Delete: %v", err)
			}
			if u.DeletedAt == nil || !u.DeletedAt.Equal(now) || u.DeletedAt.Location() != time.UTC {
				t.Errorf("deletedAt = %v, want %v in UTC", u.DeletedAt, now)
			}
			if u.DeletedBy == nil || *u.DeletedBy != who.UserID || u.ModifiedBy != who.UserID {
				t.Errorf("deletedBy %v modifiedBy %s, want %s", u.DeletedBy, u.ModifiedBy, who.UserID)
			}
			if len(u.ChatTimeRanges) != 0 || u.TokenVersion != 3 || !u.TokensRevoked() {
				t.Errorf("ranges %v version %d revoked %v; want none, 3, true", u.ChatTimeRanges, u.TokenVersion, u.TokensRevoked())
			}
		})
	}
}
