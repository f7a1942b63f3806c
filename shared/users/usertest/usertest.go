// Package usertest makes and reads user accounts for end-to-end tests of the user
// functions, on a stack started with stacktest: accounts are signed up through the API,
// their tokens are signed directly (no login, so no bcrypt round), and what is stored
// about them is read from the stack's database.
//
//	st := stacktest.Start(t)
//	admin := usertest.BootstrapAdmin(t, st)
//	u := usertest.NewAccount(t, st, auth.RoleUser, map[string]any{"name": "Kim"})
//	before := usertest.RowOf(t, st, u.ID)
package usertest

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/devstack/stacktest"
)

// Account is a user created through the API, with an access token for it.
type Account struct {
	ID       uuid.UUID
	Username string
	Password string
	Role     auth.Role
	Token    string
}

// Range is a chat time range as the API shows it.
type Range struct {
	DayOfWeek string `json:"dayOfWeek"`
	StartTime string `json:"startTime"`
	EndTime   string `json:"endTime"`
}

// Detail is an account as GET /api/v1/users/{id} and GET /api/v1/users/me show it.
type Detail struct {
	UserID         uuid.UUID `json:"userId"`
	Username       string    `json:"username"`
	Name           string    `json:"name"`
	Nickname       string    `json:"nickname"`
	UserRole       string    `json:"userRole"`
	ChatTimeRanges []Range   `json:"chatTimeRanges"`
	CreatedAt      time.Time `json:"createdAt"`
	CreatedBy      uuid.UUID `json:"createdBy"`
	ModifiedAt     time.Time `json:"modifiedAt"`
	ModifiedBy     uuid.UUID `json:"modifiedBy"`
}

// Modified is the answer to a successful PATCH of an account.
type Modified struct {
	UserID     uuid.UUID `json:"userId"`
	ModifiedAt time.Time `json:"modifiedAt"`
	ModifiedBy uuid.UUID `json:"modifiedBy"`
}

// TokenFor signs an access token for an existing account, as login would but without a
// session: a login costs a bcrypt round, which the race detector makes slow, and these
// tests are about what the token's holder may do, not about logging in.
func TokenFor(t testing.TB, st *stacktest.Stack, id uuid.UUID) string {
	t.Helper()
	who := auth.Identity{UserID: id}
	err := st.Kit.DB.QueryRow(context.Background(),
		`SELECT username, nickname, role, token_version FROM users.users WHERE id = $1`, id).
		Scan(&who.Username, &who.Nickname, &who.Role, &who.Version)
	if err != nil {
		t.Fatalf("usertest: read user %s: %v", id, err)
	}
	token, _, err := st.Signer.Access(who, 15*time.Minute)
	if err != nil {
		t.Fatalf("usertest: sign token for %s: %v", id, err)
	}
	return token
}

// BootstrapAdmin is the stack's bootstrap MASTER, with a fresh token.
func BootstrapAdmin(t testing.TB, st *stacktest.Stack) Account {
	t.Helper()
	a := Account{Username: st.Config.BootstrapAdminUsername, Role: auth.RoleMaster}
	if err := st.Kit.DB.QueryRow(context.Background(),
		`SELECT id FROM users.users WHERE username = $1`, a.Username).Scan(&a.ID); err != nil {
		t.Fatalf("usertest: bootstrap admin: %v", err)
	}
	a.Token = TokenFor(t, st, a.ID)
	return a
}

// NewAccount signs up an account with role (an administrator role with the bootstrap
// MASTER's token): name Tester, one Monday range 09:00-18:00, unless changes replace
// fields of the signup body.
func NewAccount(t testing.TB, st *stacktest.Stack, role auth.Role, changes map[string]any) Account {
	t.Helper()
	token := ""
	if role != auth.RoleUser {
		token = BootstrapAdmin(t, st).Token
	}
	return NewAccountBy(t, st, role, changes, token)
}

// NewAccountBy is NewAccount signed up with creator's token (for an administrator role,
// a MASTER's; "" for a self-signup).
func NewAccountBy(t testing.TB, st *stacktest.Stack, role auth.Role, changes map[string]any, creator string) Account {
	t.Helper()
	suffix := uuid.NewString()
	a := Account{Username: "u" + suffix[:8] + suffix[9:12], Password: "Secret!" + suffix[:8], Role: role}
	body := map[string]any{
		"username": a.Username, "password": a.Password, "userRole": string(role),
		"name": "Tester", "nickname": "nick" + suffix[:6],
		"chatTimeRanges": []map[string]string{{"dayOfWeek": "MONDAY", "startTime": "09:00", "endTime": "18:00"}},
	}
	for k, v := range changes {
		body[k] = v
	}
	a.Username, a.Password = body["username"].(string), body["password"].(string)
	res := st.Do(t, "POST", "/api/v1/auth/signup", body, creator)
	if res.Status != http.StatusCreated {
		t.Fatalf("usertest: signup %s: status %d: %s", a.Username, res.Status, res.Body)
	}
	var created struct {
		UserID uuid.UUID `json:"userId"`
	}
	res.Data(t, &created)
	a.ID = created.UserID
	a.Token = TokenFor(t, st, a.ID)
	return a
}

// Gone signs up a user who then deletes their own account; the token it returns is the
// one that was valid until the deletion.
func Gone(t testing.TB, st *stacktest.Stack) Account {
	t.Helper()
	a := NewAccount(t, st, auth.RoleUser, nil)
	if res := st.Do(t, "DELETE", "/api/v1/users/"+a.ID.String(), nil, a.Token); res.Status != http.StatusOK {
		t.Fatalf("usertest: delete %s: status %d: %s", a.Username, res.Status, res.Body)
	}
	return a
}

// Me is GET /api/v1/users/me with token, failing the test unless it succeeds.
func Me(t testing.TB, st *stacktest.Stack, token string) Detail {
	t.Helper()
	res := st.Do(t, "GET", "/api/v1/users/me", nil, token)
	if res.Status != http.StatusOK {
		t.Fatalf("usertest: me: status %d: %s", res.Status, res.Body)
	}
	var d Detail
	res.Data(t, &d)
	return d
}

// RowOf is everything stored about a user, to tell whether a refused request changed it.
func RowOf(t testing.TB, st *stacktest.Stack, id uuid.UUID) string {
	t.Helper()
	var s string
	err := st.Kit.DB.QueryRow(context.Background(), `
		SELECT format('%s|%s|%s|%s|%s|%s|%s|%s|%s|%s', u.username, u.password_hash, u.role, u.name, u.nickname,
		       u.token_version, u.modified_at, u.modified_by, u.deleted_at,
		       (SELECT string_agg(format('%s %s-%s', day_of_week, start_time, end_time), ',' ORDER BY day_of_week, start_time)
		          FROM users.chat_time_ranges WHERE user_id = u.id))
		  FROM users.users u WHERE u.id = $1`, id).Scan(&s)
	if err != nil {
		t.Fatalf("usertest: read user %s: %v", id, err)
	}
	return s
}

// Unchanged records the stored rows of ids now and, when the test ends, reports each one
// that changed since, as what (say "a refused update") changed it.
func Unchanged(t testing.TB, st *stacktest.Stack, what string, ids ...uuid.UUID) {
	t.Helper()
	before := make(map[uuid.UUID]string, len(ids))
	for _, id := range ids {
		before[id] = RowOf(t, st, id)
	}
	t.Cleanup(func() {
		t.Helper()
		for _, id := range ids {
			if after := RowOf(t, st, id); after != before[id] {
				t.Errorf("%s changed %s:\nbefore %s\nafter  %s", what, id, before[id], after)
			}
		}
	})
}

// RangeRows counts the chat time range rows stored for a user.
func RangeRows(t testing.TB, st *stacktest.Stack, id uuid.UUID) int {
	t.Helper()
	var n int
	if err := st.Kit.DB.QueryRow(context.Background(),
		`SELECT count(*) FROM users.chat_time_ranges WHERE user_id = $1`, id).Scan(&n); err != nil {
		t.Fatalf("usertest: count ranges of %s: %v", id, err)
	}
	return n
}
