package reissue_test

import (
	"net/http"
	"testing"

	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/auth/authtest"
	"github.com/8949market/market/shared/devstack/stacktest"
)

const (
	reissuePath = "/api/v1/auth/reissue"
	mePath      = "/api/v1/users/me"

	msgRevoked = "access token revoked"
)

func pairBody(access, refresh string) map[string]string {
	return map[string]string{"accessToken": access, "refreshToken": refresh}
}

func reissue(t *testing.T, st *stacktest.Stack, access, refresh string) stacktest.Response {
	t.Helper()
	return st.Do(t, "POST", reissuePath, pairBody(access, refresh), "")
}

// mustReissue reissues and fails the test unless it succeeds.
func mustReissue(t *testing.T, st *stacktest.Stack, access, refresh string) stacktest.Pair {
	t.Helper()
	res := reissue(t, st, access, refresh)
	if res.Status != http.StatusOK {
		t.Fatalf("reissue: status %d: %s", res.Status, res.Body)
	}
	var p stacktest.Pair
	res.Data(t, &p)
	return p
}

// wantRefused checks a 401 with code and, if given, message.
func wantRefused(t *testing.T, what string, res stacktest.Response, code, message string) {
	t.Helper()
	e := res.Error(t)
	if res.Status != http.StatusUnauthorized || e.Code != code || (message != "" && e.Message != message) {
		t.Errorf("%s: status %d code %s message %q, want 401 %s %q", what, res.Status, e.Code, e.Message, code, message)
	}
}

// works reports whether access is accepted by another function.
func works(t *testing.T, st *stacktest.Stack, access string) bool {
	t.Helper()
	res := st.Do(t, "GET", mePath, nil, access)
	if res.Status != http.StatusOK && res.Status != http.StatusUnauthorized {
		t.Fatalf("me: unexpected status %d: %s", res.Status, res.Body)
	}
	return res.Status == http.StatusOK
}

// TestReissue is the route: a pair that rotates and what the body must hold. The rules
// (reuse, garbage, foreign or expired access tokens, sessions ending with the account,
// one winner of a race) are users.SignIn.Reissue's (shared/users signin_test.go).
func TestReissue(t *testing.T) {
	t.Parallel()
	st := stacktest.Start(t)
	shared := st.NewUser(t, auth.RoleUser)
	login := func(t *testing.T) stacktest.Pair {
		t.Helper()
		return st.Login(t, shared.Username, shared.Password)
	}

	t.Run("rotates the pair", func(t *testing.T) {
		t.Parallel()
		s := login(t)
		p := mustReissue(t, st, s.AccessToken, s.RefreshToken)
		if p.TokenType != "Bearer" || p.ExpiresIn != 900 || p.AccessToken == s.AccessToken || p.RefreshToken == s.RefreshToken {
			t.Fatalf("reissued pair = %+v", p)
		}
		if authtest.Family(p.RefreshToken) != authtest.Family(s.RefreshToken) {
			t.Errorf("refresh family changed: %s -> %s", authtest.Family(s.RefreshToken), authtest.Family(p.RefreshToken))
		}
		c := authtest.Claims(t, p.AccessToken)
		if c["sid"] != authtest.Family(s.RefreshToken) || c["sub"] != shared.ID.String() || c["token_type"] != "access" || c["jti"] == authtest.Claims(t, s.AccessToken)["jti"] {
			t.Errorf("new access claims = %v", c)
		}

		// The old access token is revoked at once; the new one works.
		wantRefused(t, "old access token", st.Do(t, "GET", mePath, nil, s.AccessToken), "C002", msgRevoked)
		if !works(t, st, p.AccessToken) {
			t.Error("new access token refused")
		}

		// The chain goes on.
		p2 := mustReissue(t, st, p.AccessToken, p.RefreshToken)
		if p2.RefreshToken == p.RefreshToken || !works(t, st, p2.AccessToken) {
			t.Errorf("second rotation: %+v", p2)
		}
	})

	t.Run("refuses incomplete requests", func(t *testing.T) {
		t.Parallel()
		tests := []struct {
			name   string
			body   any
			status int
			code   string
			field  string
		}{
			{"empty object", `{}`, 400, "U021", "accessToken"},
			{"no access token", map[string]string{"refreshToken": shared.Refresh}, 400, "U021", "accessToken"},
			{"blank access token", pairBody("  ", shared.Refresh), 400, "U021", "accessToken"},
			{"no refresh token", map[string]string{"accessToken": shared.Access}, 400, "U022", "refreshToken"},
			{"blank refresh token", pairBody(shared.Access, " "), 400, "U022", "refreshToken"},
			{"null refresh token", `{"accessToken": "x", "refreshToken": null}`, 400, "U022", "refreshToken"},
			{"malformed json", `{"accessToken": `, 400, "C008", ""},
			{"empty body", "", 400, "C008", ""},
			{"unknown field", map[string]string{"accessToken": "a", "refreshToken": "b", "userId": "c"}, 400, "C009", "userId"},
			{"refresh token as number", `{"accessToken": "a", "refreshToken": 5}`, 400, "C010", "refreshToken"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				res := st.Do(t, "POST", reissuePath, tt.body, "")
				res.RefusedOn(t, tt.status, tt.code, tt.field)
			})
		}
	})
}
