package updateme_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/devstack/stacktest"
)

// account is a user created through the API, with an access token for it.
type account struct {
	ID       uuid.UUID
	Username string
	Password string
	Role     auth.Role
	Token    string
}

// tokenFor signs an access token for an existing account, as login would but without a
// session: a login costs a bcrypt round, which the race detector makes slow, and these
// tests are about what the token's holder may do, not about logging in.
func tokenFor(t *testing.T, st *stacktest.Stack, id uuid.UUID) string {
	t.Helper()
	who := auth.Identity{UserID: id}
	err := st.Kit.DB.QueryRow(context.Background(),
		`SELECT username, nickname, role, token_version FROM users.users WHERE id = $1`, id).
		Scan(&who.Username, &who.Nickname, &who.Role, &who.Version)
	if err != nil {
		t.Fatalf("read user %s: %v", id, err)
	}
	token, _, err := st.Signer.Access(who, 15*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	return token
}

// bootstrapAdmin is the stack's bootstrap MASTER.
func bootstrapAdmin(t *testing.T, st *stacktest.Stack) account {
	t.Helper()
	a := account{Username: st.Config.BootstrapAdminUsername, Role: auth.RoleMaster}
	if err := st.Kit.DB.QueryRow(context.Background(),
		`SELECT id FROM users.users WHERE username = $1`, a.Username).Scan(&a.ID); err != nil {
		t.Fatalf("bootstrap admin: %v", err)
	}
	a.Token = tokenFor(t, st, a.ID)
	return a
}

// newAccount signs up an account with role (an administrator role with the bootstrap
// MASTER's token): name Tester, one Monday range 09:00-18:00, unless changes replace
// fields of the signup body.
func newAccount(t *testing.T, st *stacktest.Stack, role auth.Role, changes map[string]any) account {
	t.Helper()
	suffix := uuid.NewString()
	a := account{Username: "u" + suffix[:8] + suffix[9:12], Password: "Secret!" + suffix[:8], Role: role}
	body := map[string]any{
		"username": a.Username, "password": a.Password, "userRole": string(role),
		"name": "Tester", "nickname": "nick" + suffix[:6],
		"chatTimeRanges": []map[string]string{{"dayOfWeek": "MONDAY", "startTime": "09:00", "endTime": "18:00"}},
	}
	for k, v := range changes {
		body[k] = v
	}
	a.Username, a.Password = body["username"].(string), body["password"].(string)
	token := ""
	if role != auth.RoleUser {
		token = bootstrapAdmin(t, st).Token
	}
	res := st.Do(t, "POST", "/api/v1/auth/signup", body, token)
	if res.Status != http.StatusCreated {
		t.Fatalf("signup %s: status %d: %s", a.Username, res.Status, res.Body)
	}
	var created struct {
		UserID uuid.UUID `json:"userId"`
	}
	res.Data(t, &created)
	a.ID = created.UserID
	a.Token = tokenFor(t, st, a.ID)
	return a
}

// rowOf is everything stored about a user, to tell whether a refused request changed it.
func rowOf(t *testing.T, st *stacktest.Stack, id uuid.UUID) string {
	t.Helper()
	var s string
	err := st.Kit.DB.QueryRow(context.Background(), `
		SELECT format('%s|%s|%s|%s|%s|%s|%s|%s|%s|%s', u.username, u.password_hash, u.role, u.name, u.nickname,
		       u.token_version, u.modified_at, u.modified_by, u.deleted_at,
		       (SELECT string_agg(format('%s %s-%s', day_of_week, start_time, end_time), ',' ORDER BY day_of_week, start_time)
		          FROM users.chat_time_ranges WHERE user_id = u.id))
		  FROM users.users u WHERE u.id = $1`, id).Scan(&s)
	if err != nil {
		t.Fatalf("read user %s: %v", id, err)
	}
	return s
}
