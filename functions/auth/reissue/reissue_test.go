package reissue_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/devstack/stacktest"
)

const (
	reissuePath = "/api/v1/auth/reissue"
	mePath      = "/api/v1/users/me"

	msgReused    = "refresh token already used; the session is revoked"
	msgInvalid   = "refresh token invalid, expired or revoked"
	msgRevoked   = "access token revoked"
	msgNotOwner  = "the access token does not belong to this session"
	msgRelogin   = "the session ended when the account changed; log in again"
	msgNoAccount = "the account no longer exists"
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

func family(refresh string) string {
	f, _, _ := strings.Cut(refresh, ".")
	return f
}

// claimsOf decodes the payload of a JWT, numbers kept exact.
func claimsOf(t *testing.T, token string) map[string]any {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("token has %d parts", len(parts))
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		t.Fatal(err)
	}
	return m
}

// post sends a reissue without a testing.T, for goroutines.
func post(st *stacktest.Stack, body any) (int, error) {
	raw, err := json.Marshal(body)
	if err != nil {
		return 0, err
	}
	res, err := http.Post(st.URL+reissuePath, "application/json", bytes.NewReader(raw))
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	_, err = io.Copy(io.Discard, res.Body)
	return res.StatusCode, err
}

// TestReissue shares one stack and one account: sessions of an account are independent
// (each login starts its own), so each subtest logs in for sessions of its own. Subtests
// that change an account use accounts of their own.
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
		if family(p.RefreshToken) != family(s.RefreshToken) {
			t.Errorf("refresh family changed: %s -> %s", family(s.RefreshToken), family(p.RefreshToken))
		}
		c := claimsOf(t, p.AccessToken)
		if c["sid"] != family(s.RefreshToken) || c["sub"] != shared.ID.String() || c["token_type"] != "access" || c["jti"] == claimsOf(t, s.AccessToken)["jti"] {
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

	t.Run("reuse revokes the family only", func(t *testing.T) {
		t.Parallel()
		victim := login(t)
		other := login(t)
		next := mustReissue(t, st, victim.AccessToken, victim.RefreshToken)

		// The spent refresh token again, as a thief holding the old pair would send it.
		wantRefused(t, "spent refresh token", reissue(t, st, victim.AccessToken, victim.RefreshToken), "C002", msgReused)
		// The newest token of the family is dead too.
		wantRefused(t, "newest refresh token of the family", reissue(t, st, next.AccessToken, next.RefreshToken), "C002", msgInvalid)

		// The user's other session is untouched.
		if !works(t, st, other.AccessToken) {
			t.Error("other session's access token refused")
		}
		p := mustReissue(t, st, other.AccessToken, other.RefreshToken)
		if !works(t, st, p.AccessToken) {
			t.Error("other session's reissued access token refused")
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

	t.Run("refuses garbage", func(t *testing.T) {
		t.Parallel()
		s := login(t)
		unknownFamily := strings.Repeat("ab", 16) + ".c2VjcmV0"
		for _, refresh := range []string{"garbage", "no-dot-at-all", ".secret", family(s.RefreshToken) + ".",
			strings.ToUpper(family(s.RefreshToken)) + ".secret", unknownFamily, "../" + family(s.RefreshToken) + ".x"} {
			wantRefused(t, "refresh "+refresh, reissue(t, st, s.AccessToken, refresh), "C002", msgInvalid)
		}
		// A bad access token is refused before the refresh token is looked at, so it
		// does not spend it.
		forged := s.AccessToken[:len(s.AccessToken)-4] + "AAAA"
		if forged == s.AccessToken {
			forged = s.AccessToken[:len(s.AccessToken)-4] + "BBBB"
		}
		for _, access := range []string{"garbage", forged, s.RefreshToken} {
			wantRefused(t, "access "+access, reissue(t, st, access, s.RefreshToken), "C002", "access token invalid or expired")
		}
		// None of that touched the session.
		p := mustReissue(t, st, s.AccessToken, s.RefreshToken)
		if !works(t, st, p.AccessToken) {
			t.Error("session broken by refused requests")
		}
	})

	t.Run("access token of another user", func(t *testing.T) {
		t.Parallel()
		a := login(t)
		b := st.NewUser(t, auth.RoleUser)
		wantRefused(t, "A's access with B's refresh", reissue(t, st, a.AccessToken, b.Refresh), "U020", msgNotOwner)
		// B's refresh token was exposed with a foreign access token: B's session ends.
		wantRefused(t, "B's own pair afterwards", reissue(t, st, b.Access, b.Refresh), "C002", "")
		// A's session was not presented and goes on.
		mustReissue(t, st, a.AccessToken, a.RefreshToken)
	})

	t.Run("access token of another session", func(t *testing.T) {
		t.Parallel()
		one, two := login(t), login(t)
		wantRefused(t, "session one's access with session two's refresh", reissue(t, st, one.AccessToken, two.RefreshToken), "U020", msgNotOwner)
		wantRefused(t, "session two afterwards", reissue(t, st, two.AccessToken, two.RefreshToken), "C002", "")
		mustReissue(t, st, one.AccessToken, one.RefreshToken)
	})

	t.Run("expired access token", func(t *testing.T) {
		t.Parallel()
		s := login(t)
		// The same sub, sid and ver, signed by the stack, expired an hour ago.
		c := maps.Clone(claimsOf(t, s.AccessToken))
		now := time.Now()
		c["jti"] = auth.NewTokenID()
		c["iat"], c["exp"] = now.Add(-2*time.Hour).Unix(), now.Add(-time.Hour).Unix()
		expired, err := st.Signer.Sign(jwt.MapClaims(c))
		if err != nil {
			t.Fatal(err)
		}
		if works(t, st, expired) {
			t.Fatal("expired token accepted by users-me")
		}
		p := mustReissue(t, st, expired, s.RefreshToken)
		if !works(t, st, p.AccessToken) {
			t.Error("access token reissued from an expired one refused")
		}
	})

	t.Run("password change ends every session", func(t *testing.T) {
		t.Parallel()
		u := st.NewUser(t, auth.RoleUser)
		second := st.Login(t, u.Username, u.Password)
		newPassword := "Changed!" + uuid.NewString()[:8]
		if res := st.Do(t, "PATCH", mePath, map[string]string{"password": newPassword}, u.Access); res.Status != http.StatusOK {
			t.Fatalf("change password: status %d: %s", res.Status, res.Body)
		}
		wantRefused(t, "reissue of the changing session", reissue(t, st, u.Access, u.Refresh), "U020", msgRelogin)
		wantRefused(t, "reissue of another session", reissue(t, st, second.AccessToken, second.RefreshToken), "U020", msgRelogin)
		if works(t, st, second.AccessToken) {
			t.Error("access token from before the password change accepted")
		}
		// A fresh login works at once and its session reissues.
		fresh := st.Login(t, u.Username, newPassword)
		p := mustReissue(t, st, fresh.AccessToken, fresh.RefreshToken)
		if !works(t, st, p.AccessToken) {
			t.Error("session after the password change refused")
		}
	})

	t.Run("deleted account", func(t *testing.T) {
		t.Parallel()
		u := st.NewUser(t, auth.RoleUser)
		if res := st.Do(t, "DELETE", "/api/v1/users/"+u.ID.String(), nil, u.Access); res.Status != http.StatusOK {
			t.Fatalf("delete: status %d: %s", res.Status, res.Body)
		}
		wantRefused(t, "reissue after delete", reissue(t, st, u.Access, u.Refresh), "U020", msgNoAccount)
	})

	t.Run("concurrent reuse: one winner", func(t *testing.T) {
		t.Parallel()
		s := login(t)
		const n = 10
		statuses := make([]int, n)
		errs := make([]error, n)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				<-start
				statuses[i], errs[i] = post(st, pairBody(s.AccessToken, s.RefreshToken))
			})
		}
		close(start)
		wg.Wait()
		ok, refused := 0, 0
		for i, s := range statuses {
			if errs[i] != nil {
				t.Fatal(errs[i])
			}
			switch s {
			case http.StatusOK:
				ok++
			case http.StatusUnauthorized:
				refused++
			}
		}
		if ok != 1 || refused != n-1 {
			t.Errorf("statuses %v: want exactly one 200 and %d 401", statuses, n-1)
		}
	})
}
