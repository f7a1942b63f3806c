package signup_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
	"golang.org/x/crypto/bcrypt"

	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/devstack/stacktest"
	"github.com/8949market/market/shared/testenv"
)

const signupPath = "/api/v1/auth/signup"

// validBody is a USER signup that passes every rule, with a username of its own.
func validBody() map[string]any {
	return map[string]any{
		"username": newUsername(),
		"password": "Secret!234",
		"userRole": "USER",
		"name":     "Kim",
		"nickname": "kimmy",
		"chatTimeRanges": []map[string]any{
			{"dayOfWeek": "MONDAY", "startTime": "09:00", "endTime": "12:00"},
		},
	}
}

// with is validBody with fields replaced, or removed where the value is nil.
func with(changes map[string]any) map[string]any {
	b := validBody()
	for k, v := range changes {
		if v == nil {
			delete(b, k)
		} else {
			b[k] = v
		}
	}
	return b
}

// ranges is a chatTimeRanges value of the given items.
func ranges(items ...map[string]any) []map[string]any {
	return append([]map[string]any{}, items...)
}

// post sends a signup without a testing.T, for goroutines (which may not call t.Fatal).
func post(st *stacktest.Stack, body any) (int, error) {
	raw, err := json.Marshal(body)
	if err != nil {
		return 0, err
	}
	res, err := http.Post(st.URL+signupPath, "application/json", bytes.NewReader(raw))
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	_, err = io.Copy(io.Discard, res.Body)
	return res.StatusCode, err
}

func newUsername() string {
	s := strings.ReplaceAll(uuid.NewString(), "-", "")
	return "u" + s[:11]
}

// counts returns how many rows users.users and users.chat_time_ranges hold.
func counts(t *testing.T, st *stacktest.Stack) (usersN, rangesN int) {
	t.Helper()
	err := st.Kit.DB.QueryRow(context.Background(),
		`SELECT (SELECT count(*) FROM users.users), (SELECT count(*) FROM users.chat_time_ranges)`).Scan(&usersN, &rangesN)
	if err != nil {
		t.Fatal(err)
	}
	return usersN, rangesN
}

func TestSignupRefusesBadInput(t *testing.T) {
	t.Parallel()
	st := stacktest.Start(t)
	// Minted tokens: only the caller's role matters to these refusals, and no bcrypt.
	user, _ := st.Token(t, auth.RoleUser)
	manager, _ := st.Token(t, auth.RoleManager)
	master, _ := st.Token(t, auth.RoleMaster)
	usersBefore, rangesBefore := counts(t, st)

	// A MASTER token signed by a key the stack does not trust, and a MASTER token with
	// its signature broken.
	stranger, _, err := auth.NewSigner(testenv.Key(t)).Access(auth.Identity{
		UserID: uuid.New(), Username: "stranger1", Role: auth.RoleMaster,
	}, 15*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	broken := master[:len(master)-4] + "AAAA"
	if broken == master {
		broken = master[:len(master)-4] + "BBBB"
	}

	day := func(d, s, e any) map[string]any {
		m := map[string]any{"dayOfWeek": d, "startTime": s, "endTime": e}
		for k, v := range m {
			if v == nil {
				delete(m, k)
			}
		}
		return m
	}
	var tooMany []map[string]any
	for i := range 51 {
		tooMany = append(tooMany, day("TUESDAY", fmt.Sprintf("10:%02d", i), fmt.Sprintf("10:%02d:30", i)))
	}

	tests := []struct {
		name   string
		body   any
		token  string
		status int
		code   string
		field  string
	}{
		{"missing username", with(map[string]any{"username": nil}), "", 400, "U001", "username"},
		{"blank username", with(map[string]any{"username": "   "}), "", 400, "U001", "username"},
		{"short username", with(map[string]any{"username": "abc1234"}), "", 400, "U002", "username"},
		{"long username", with(map[string]any{"username": "abcdefghi1234"}), "", 400, "U002", "username"},
		{"username with symbol", with(map[string]any{"username": "user_name1"}), "", 400, "U002", "username"},
		{"username in Hangul", with(map[string]any{"username": "사용자이름입니다아"}), "", 400, "U002", "username"},
		{"missing password", with(map[string]any{"password": nil}), "", 400, "U003", "password"},
		{"empty password", with(map[string]any{"password": ""}), "", 400, "U003", "password"},
		{"short password", with(map[string]any{"password": "Ab1!xyz"}), "", 400, "U004", "password"},
		{"long password", with(map[string]any{"password": strings.Repeat("a", 21)}), "", 400, "U004", "password"},
		{"password with space", with(map[string]any{"password": "pass word1"}), "", 400, "U004", "password"},
		{"password with tilde", with(map[string]any{"password": "password~1"}), "", 400, "U004", "password"},
		{"missing role", with(map[string]any{"userRole": nil}), "", 400, "U005", "userRole"},
		{"blank role", with(map[string]any{"userRole": " "}), "", 400, "U005", "userRole"},
		{"unknown role", with(map[string]any{"userRole": "ADMIN"}), "", 400, "U006", "userRole"},
		{"bare prefix role", with(map[string]any{"userRole": "ROLE_"}), "", 400, "U006", "userRole"},
		{"missing name", with(map[string]any{"name": nil}), "", 400, "U007", "name"},
		{"blank name", with(map[string]any{"name": ""}), "", 400, "U007", "name"},
		{"name with digit", with(map[string]any{"name": "Kim1"}), "", 400, "U008", "name"},
		{"name with space", with(map[string]any{"name": "Kim Lee"}), "", 400, "U008", "name"},
		{"long name", with(map[string]any{"name": strings.Repeat("가", 21)}), "", 400, "U008", "name"},
		{"missing nickname", with(map[string]any{"nickname": nil}), "", 400, "U009", "nickname"},
		{"blank nickname", with(map[string]any{"nickname": "  "}), "", 400, "U009", "nickname"},
		{"nickname with symbol", with(map[string]any{"nickname": "nick!"}), "", 400, "U010", "nickname"},
		{"long nickname", with(map[string]any{"nickname": strings.Repeat("n", 21)}), "", 400, "U010", "nickname"},
		{"missing ranges", with(map[string]any{"chatTimeRanges": nil}), "", 400, "U011", "chatTimeRanges"},
		{"empty ranges", with(map[string]any{"chatTimeRanges": ranges()}), "", 400, "U011", "chatTimeRanges"},
		{"range without day", with(map[string]any{"chatTimeRanges": ranges(day(nil, "09:00", "10:00"))}), "", 400, "U012", "chatTimeRanges[0].dayOfWeek"},
		{"range without start", with(map[string]any{"chatTimeRanges": ranges(
			day("MONDAY", "09:00", "10:00"), day("MONDAY", nil, "12:00"))}), "", 400, "U013", "chatTimeRanges[1].startTime"},
		{"range without end", with(map[string]any{"chatTimeRanges": ranges(day("MONDAY", "09:00", ""))}), "", 400, "U014", "chatTimeRanges[0].endTime"},
		{"unknown day", with(map[string]any{"chatTimeRanges": ranges(day("FUNDAY", "09:00", "10:00"))}), "", 400, "C001", "chatTimeRanges[0].dayOfWeek"},
		{"day as number", with(map[string]any{"chatTimeRanges": ranges(day("1", "09:00", "10:00"))}), "", 400, "C001", "chatTimeRanges[0].dayOfWeek"},
		{"start not a time", with(map[string]any{"chatTimeRanges": ranges(day("MONDAY", "9am", "10:00"))}), "", 400, "C001", "chatTimeRanges[0].startTime"},
		{"start 24:00", with(map[string]any{"chatTimeRanges": ranges(day("MONDAY", "24:00", "23:00"))}), "", 400, "C001", "chatTimeRanges[0].startTime"},
		{"end with unpadded hour", with(map[string]any{"chatTimeRanges": ranges(day("MONDAY", "08:00", "9:00"))}), "", 400, "C001", "chatTimeRanges[0].endTime"},
		{"end with fractions", with(map[string]any{"chatTimeRanges": ranges(day("MONDAY", "08:00", "09:00:00.5"))}), "", 400, "C001", "chatTimeRanges[0].endTime"},
		{"51 ranges", with(map[string]any{"chatTimeRanges": tooMany}), "", 400, "C001", "chatTimeRanges"},
		{"start equals end", with(map[string]any{"chatTimeRanges": ranges(day("MONDAY", "09:00", "09:00:00"))}), "", 400, "U025", "chatTimeRanges[0].endTime"},
		{"start after end", with(map[string]any{"chatTimeRanges": ranges(day("MONDAY", "18:00", "09:00"))}), "", 400, "U025", "chatTimeRanges[0].endTime"},
		{"overlap on one day", with(map[string]any{"chatTimeRanges": ranges(
			day("MONDAY", "09:00", "12:00"), day("FRIDAY", "09:00", "12:00"), day("monday", "11:59:59", "13:00"))}), "", 409, "U026", "chatTimeRanges"},
		{"range inside another", with(map[string]any{"chatTimeRanges": ranges(
			day("SUNDAY", "08:00", "20:00"), day("SUNDAY", "10:00", "11:00"))}), "", 409, "U026", "chatTimeRanges"},
		// The first broken rule answers, in the documented order.
		{"username before password", with(map[string]any{"username": "x", "password": "x"}), "", 400, "U002", "username"},
		{"nickname before ranges", with(map[string]any{"nickname": "!", "chatTimeRanges": ranges()}), "", 400, "U010", "nickname"},
		{"validation before role grant", with(map[string]any{"userRole": "MASTER", "name": "1"}), "", 400, "U008", "name"},
		{"manager without token", with(map[string]any{"userRole": "MANAGER"}), "", 403, "U016", "userRole"},
		{"master without token", with(map[string]any{"userRole": "ROLE_MASTER"}), "", 403, "U016", "userRole"},
		{"manager by a user", with(map[string]any{"userRole": "관리자"}), user, 403, "U016", "userRole"},
		{"manager by a manager", with(map[string]any{"userRole": "MANAGER"}), manager, 403, "U016", "userRole"},
		{"master by a manager", with(map[string]any{"userRole": "총관리자"}), manager, 403, "U016", "userRole"},
		{"token of an untrusted key", validBody(), stranger, 401, "C002", ""},
		{"token with broken signature", with(map[string]any{"userRole": "MANAGER"}), broken, 401, "C002", ""},
		{"expired master token", with(map[string]any{"userRole": "MANAGER"}), expired(t, st), 401, "C002", ""},
		{"token not a JWT", validBody(), "not-a-token", 401, "C002", ""},
		{"malformed json", `{"username": "abcdefgh1",`, "", 400, "C008", ""},
		{"empty body", "", "", 400, "C008", ""},
		{"two values", `{} {}`, "", 400, "C008", ""},
		{"unknown field", with(map[string]any{"role": "USER"}), "", 400, "C009", "role"},
		{"username as number", with(map[string]any{"username": 12345678}), "", 400, "C010", "username"},
		{"ranges as string", with(map[string]any{"chatTimeRanges": "MONDAY 09:00-10:00"}), "", 400, "C010", "chatTimeRanges"},
		{"body as array", `[]`, "", 400, "C010", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res := st.Do(t, "POST", signupPath, tt.body, tt.token)
			e := res.RefusedOn(t, tt.status, tt.code, tt.field)
			if e.Status != tt.status {
				t.Fatalf("body status %d, want %d", e.Status, tt.status)
			}
			if e.Message == "" || e.TraceID == "" || e.Timestamp == "" {
				t.Errorf("error body lacks message, traceId or timestamp: %s", res.Body)
			}
		})
	}
	t.Cleanup(func() {
		if u, r := counts(t, st); u != usersBefore || r != rangesBefore {
			t.Errorf("refused signups wrote rows: users %d -> %d, chat ranges %d -> %d", usersBefore, u, rangesBefore, r)
		}
	})
}

// expired is a MASTER token signed by the stack's key that expired an hour ago.
func expired(t *testing.T, st *stacktest.Stack) string {
	t.Helper()
	now := time.Now()
	token, err := st.Signer.Sign(auth.AccessClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Subject:   uuid.NewString(),
			ID:        auth.NewTokenID(),
			IssuedAt:  jwt.NewNumericDate(now.Add(-2 * time.Hour)),
			ExpiresAt: jwt.NewNumericDate(now.Add(-time.Hour)),
		},
		TokenType: auth.TokenTypeAccess, Username: "oldmaster", Role: auth.RoleMaster, Nickname: "old",
	})
	if err != nil {
		t.Fatal(err)
	}
	return token
}

type created struct {
	UserID    uuid.UUID `json:"userId"`
	Username  string    `json:"username"`
	Nickname  string    `json:"nickname"`
	CreatedAt time.Time `json:"createdAt"`
	CreatedBy uuid.UUID `json:"createdBy"`
}

type row struct {
	username, hash, role, name, nickname string
	version                              int64
	createdBy, modifiedBy                uuid.UUID
}

func readRow(t *testing.T, st *stacktest.Stack, id uuid.UUID) row {
	t.Helper()
	var r row
	err := st.Kit.DB.QueryRow(context.Background(), `
		SELECT username, password_hash, role, name, nickname, token_version, created_by, modified_by
		  FROM users.users WHERE id = $1 AND deleted_at IS NULL`, id).
		Scan(&r.username, &r.hash, &r.role, &r.name, &r.nickname, &r.version, &r.createdBy, &r.modifiedBy)
	if err != nil {
		t.Fatalf("read user %s: %v", id, err)
	}
	return r
}

// liveCount is how many accounts are named username in any case, and how many chat
// ranges they hold.
func liveCount(t *testing.T, st *stacktest.Stack, username string) (usersN, rangesN int) {
	t.Helper()
	err := st.Kit.DB.QueryRow(context.Background(), `
		SELECT count(DISTINCT u.id), count(r.user_id)
		  FROM users.users u LEFT JOIN users.chat_time_ranges r ON r.user_id = u.id
		 WHERE lower(u.username) = lower($1)`, username).Scan(&usersN, &rangesN)
	if err != nil {
		t.Fatal(err)
	}
	return usersN, rangesN
}

// TestSignupCreatesAccount shares one stack between the successful signups: each
// subtest works on usernames of its own.
func TestSignupCreatesAccount(t *testing.T) {
	t.Parallel()
	st := stacktest.Start(t)
	admin := st.Admin(t)

	t.Run("self signup", func(t *testing.T) {
		t.Parallel()
		body := with(map[string]any{
			"username": "Mixed" + newUsername()[1:8], "password": `Aa1!@#$%^&*()_+-=[]{`, "name": "김철수", "nickname": "철수99",
			"chatTimeRanges": ranges(
				map[string]any{"dayOfWeek": "friday", "startTime": "13:00", "endTime": "14:00:30"},
				map[string]any{"dayOfWeek": "MONDAY", "startTime": "09:00", "endTime": "12:00"},
				// Touching ranges are allowed.
				map[string]any{"dayOfWeek": "MONDAY", "startTime": "12:00", "endTime": "13:00"},
			),
		})
		before := time.Now().Add(-time.Second)
		res := st.Do(t, "POST", signupPath, body, "")
		if res.Status != http.StatusCreated {
			t.Fatalf("status %d: %s", res.Status, res.Body)
		}
		var c created
		res.Data(t, &c)
		if c.UserID == uuid.Nil || c.Username != body["username"] || c.Nickname != "철수99" || c.CreatedBy != c.UserID {
			t.Fatalf("created = %+v", c)
		}
		if c.CreatedAt.Before(before) || c.CreatedAt.After(time.Now().Add(time.Second)) {
			t.Errorf("createdAt %s not now", c.CreatedAt)
		}

		r := readRow(t, st, c.UserID)
		if r.username != body["username"] || r.role != "USER" || r.name != "김철수" || r.nickname != "철수99" ||
			r.version != 0 || r.createdBy != c.UserID || r.modifiedBy != c.UserID {
			t.Errorf("row = %+v", r)
		}
		password := body["password"].(string)
		if strings.Contains(r.hash, password) {
			t.Fatalf("password stored in clear: %q", r.hash)
		}
		cost, err := bcrypt.Cost([]byte(r.hash))
		if err != nil || cost < 10 {
			t.Errorf("password_hash %q: bcrypt cost %d, %v; want >= 10", r.hash, cost, err)
		}
		if err := bcrypt.CompareHashAndPassword([]byte(r.hash), []byte(password)); err != nil {
			t.Errorf("password_hash does not match the password: %v", err)
		}

		rows, err := st.Kit.DB.Query(context.Background(), `
			SELECT day_of_week, to_char(start_time, 'HH24:MI:SS'), to_char(end_time, 'HH24:MI:SS')
			  FROM users.chat_time_ranges WHERE user_id = $1 ORDER BY day_of_week, start_time`, c.UserID)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for rows.Next() {
			var d int
			var s, e string
			if err := rows.Scan(&d, &s, &e); err != nil {
				t.Fatal(err)
			}
			got = append(got, fmt.Sprintf("%d %s-%s", d, s, e))
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		want := []string{"1 09:00:00-12:00:00", "1 12:00:00-13:00:00", "5 13:00:00-14:00:30"}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("chat ranges = %v, want %v", got, want)
		}
	})

	t.Run("role spellings", func(t *testing.T) {
		t.Parallel()
		tests := []struct {
			spelling string
			byMaster bool
			want     string
		}{
			{"user", false, "USER"},
			{"ROLE_USER", false, "USER"},
			{"일반 사용자", false, "USER"},
			{"ROLE_MANAGER", true, "MANAGER"},
			{"관리자", true, "MANAGER"},
			{"Role_Master", true, "MASTER"},
			{"총관리자", true, "MASTER"},
		}
		for _, tt := range tests {
			t.Run(tt.spelling, func(t *testing.T) {
				t.Parallel()
				token := ""
				if tt.byMaster {
					token = admin.Access
				}
				res := st.Do(t, "POST", signupPath, with(map[string]any{"userRole": tt.spelling}), token)
				if res.Status != http.StatusCreated {
					t.Fatalf("status %d: %s", res.Status, res.Body)
				}
				var c created
				res.Data(t, &c)
				wantBy := c.UserID
				if tt.byMaster {
					wantBy = admin.ID
				}
				if c.CreatedBy != wantBy {
					t.Errorf("createdBy %s, want %s", c.CreatedBy, wantBy)
				}
				if r := readRow(t, st, c.UserID); r.role != tt.want || r.createdBy != wantBy {
					t.Errorf("stored role %q created by %s, want %q by %s", r.role, r.createdBy, tt.want, wantBy)
				}
			})
		}
	})

	t.Run("duplicate username", func(t *testing.T) {
		t.Parallel()
		name := "Dup" + newUsername()[1:9]
		if res := st.Do(t, "POST", signupPath, with(map[string]any{"username": name}), ""); res.Status != http.StatusCreated {
			t.Fatalf("first signup: status %d: %s", res.Status, res.Body)
		}
		for _, again := range []string{strings.ToLower(name), strings.ToUpper(name)} {
			res := st.Do(t, "POST", signupPath, with(map[string]any{"username": again, "nickname": "other"}), "")
			if e := res.Error(t); res.Status != http.StatusConflict || e.Code != "U018" || e.Field == nil || *e.Field != "username" {
				t.Errorf("signup %q again: status %d: %s", again, res.Status, res.Body)
			}
		}
		if u, r := liveCount(t, st, name); u != 1 || r != 1 {
			t.Errorf("after refused duplicates: %d accounts with %d chat ranges, want 1 with 1", u, r)
		}
	})

	t.Run("racing duplicates", func(t *testing.T) {
		t.Parallel()
		race := "Race" + newUsername()[1:8]
		spellings := []string{race, strings.ToLower(race), strings.ToUpper(race)}
		statuses := make([]int, len(spellings))
		errs := make([]error, len(spellings))
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i, s := range spellings {
			body := with(map[string]any{"username": s})
			wg.Go(func() {
				<-start
				statuses[i], errs[i] = post(st, body)
			})
		}
		close(start)
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatal(err)
		}
		if slices.Sort(statuses); fmt.Sprint(statuses) != "[201 409 409]" {
			t.Errorf("racing signups: statuses %v, want one 201 and the rest 409", statuses)
		}
		if u, r := liveCount(t, st, race); u != 1 || r != 1 {
			t.Errorf("%d accounts named %s with %d chat ranges, want 1 with 1", u, race, r)
		}
	})
}
