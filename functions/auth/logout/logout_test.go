package logout_test

import (
	"net/http"
	"testing"

	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/devstack/stacktest"
)

const (
	logoutPath  = "/api/v1/auth/logout"
	reissuePath = "/api/v1/auth/reissue"
	mePath      = "/api/v1/users/me"

	msgRevoked        = "access token revoked"
	msgMissing        = "access token required"
	msgInvalid        = "access token invalid or expired"
	msgRefreshInvalid = "refresh token invalid, expired or revoked"
)

func wantRefused(t *testing.T, what string, res stacktest.Response, message string) {
	t.Helper()
	e := res.Error(t)
	if res.Status != http.StatusUnauthorized || e.Code != "C002" || e.Message != message {
		t.Errorf("%s: status %d code %s message %q, want 401 C002 %q", what, res.Status, e.Code, e.Message, message)
	}
}

func logout(t *testing.T, st *stacktest.Stack, access string) {
	t.Helper()
	res := st.Do(t, "POST", logoutPath, nil, access)
	if res.Status != http.StatusNoContent || len(res.Body) != 0 {
		t.Fatalf("logout: status %d, body %q; want 204 without body", res.Status, res.Body)
	}
}

func reissue(t *testing.T, st *stacktest.Stack, p stacktest.Pair) stacktest.Response {
	t.Helper()
	return st.Do(t, "POST", reissuePath, map[string]string{"accessToken": p.AccessToken, "refreshToken": p.RefreshToken}, "")
}

// stillWorks checks that a session's access token is accepted and that it reissues.
func stillWorks(t *testing.T, st *stacktest.Stack, what string, p stacktest.Pair) {
	t.Helper()
	if res := st.Do(t, "GET", mePath, nil, p.AccessToken); res.Status != http.StatusOK {
		t.Errorf("%s: me: status %d: %s", what, res.Status, res.Body)
	}
	if res := reissue(t, st, p); res.Status != http.StatusOK {
		t.Errorf("%s: reissue: status %d: %s", what, res.Status, res.Body)
	}
}

// TestLogout shares one stack and one account: each subtest logs in for sessions of its
// own, and sessions of one account are independent.
func TestLogout(t *testing.T) {
	t.Parallel()
	st := stacktest.Start(t)
	u := st.NewUser(t, auth.RoleUser)
	login := func(t *testing.T) stacktest.Pair {
		t.Helper()
		return st.Login(t, u.Username, u.Password)
	}

	t.Run("ends the session", func(t *testing.T) {
		t.Parallel()
		s, other := login(t), login(t)
		logout(t, st, s.AccessToken)

		// Other functions refuse the token at once.
		wantRefused(t, "me", st.Do(t, "GET", mePath, nil, s.AccessToken), msgRevoked)
		wantRefused(t, "get user", st.Do(t, "GET", "/api/v1/users/"+u.ID.String(), nil, s.AccessToken), msgRevoked)
		wantRefused(t, "update me", st.Do(t, "PATCH", mePath, map[string]string{"nickname": "after"}, s.AccessToken), msgRevoked)
		// The session's refresh token is dead.
		wantRefused(t, "reissue", reissue(t, st, s), msgRefreshInvalid)
		// Logging out again with the revoked token is refused like any other use.
		wantRefused(t, "second logout", st.Do(t, "POST", logoutPath, nil, s.AccessToken), msgRevoked)

		stillWorks(t, st, "another login of the same user", other)
	})

	t.Run("needs a valid token", func(t *testing.T) {
		t.Parallel()
		s := login(t)
		wantRefused(t, "no token", st.Do(t, "POST", logoutPath, nil, ""), msgMissing)
		wantRefused(t, "garbage token", st.Do(t, "POST", logoutPath, nil, "garbage"), msgInvalid)
		wantRefused(t, "refresh token as bearer", st.Do(t, "POST", logoutPath, nil, s.RefreshToken), msgInvalid)
		// None of that ended the session.
		stillWorks(t, st, "session", s)
	})

	t.Run("sessions log out independently", func(t *testing.T) {
		t.Parallel()
		one, two, three := login(t), login(t), login(t)
		logout(t, st, one.AccessToken)
		logout(t, st, two.AccessToken)
		for name, p := range map[string]stacktest.Pair{"first": one, "second": two} {
			wantRefused(t, name+" session's access token", st.Do(t, "GET", mePath, nil, p.AccessToken), msgRevoked)
			wantRefused(t, name+" session's reissue", reissue(t, st, p), msgRefreshInvalid)
		}
		stillWorks(t, st, "third session", three)
	})

	t.Run("a reissued token logs out its session", func(t *testing.T) {
		t.Parallel()
		s := login(t)
		res := reissue(t, st, s)
		if res.Status != http.StatusOK {
			t.Fatalf("reissue: status %d: %s", res.Status, res.Body)
		}
		var next stacktest.Pair
		res.Data(t, &next)
		logout(t, st, next.AccessToken)
		wantRefused(t, "me", st.Do(t, "GET", mePath, nil, next.AccessToken), msgRevoked)
		wantRefused(t, "reissue with the newest refresh token", reissue(t, st, next), msgRefreshInvalid)
	})
}
