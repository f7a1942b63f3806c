package login_test

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/8949market/market/shared/devstack/stacktest"
	"github.com/8949market/market/shared/testenv"
)

const (
	loginPath = "/api/v1/auth/login"
	badLogin  = "username or password is incorrect"
)

// account is a signed-up user that has not logged in.
type account struct {
	ID       uuid.UUID
	Username string
	Password string
}

func newUsername() string {
	return "u" + strings.ReplaceAll(uuid.NewString(), "-", "")[:11]
}

// signup creates a USER account (one bcrypt hash, no login).
func signup(t *testing.T, st *stacktest.Stack) account {
	t.Helper()
	a := account{Username: newUsername(), Password: "Secret!" + uuid.NewString()[:8]}
	res := st.Do(t, "POST", "/api/v1/auth/signup", map[string]any{
		"username": a.Username, "password": a.Password, "userRole": "USER", "name": "Tester", "nickname": "nick" + a.Username[1:7],
		"chatTimeRanges": []map[string]string{{"dayOfWeek": "MONDAY", "startTime": "09:00", "endTime": "18:00"}},
	}, "")
	if res.Status != http.StatusCreated {
		t.Fatalf("signup: status %d: %s", res.Status, res.Body)
	}
	var c struct {
		UserID uuid.UUID `json:"userId"`
	}
	res.Data(t, &c)
	a.ID = c.UserID
	return a
}

func creds(username, password string) map[string]string {
	return map[string]string{"username": username, "password": password}
}

// decodeSegment decodes one base64url part of a JWT as JSON, numbers kept exact.
func decodeSegment(t *testing.T, seg string) map[string]any {
	t.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		t.Fatalf("jwt segment %q: %v", seg, err)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("jwt segment %s: %v", raw, err)
	}
	return m
}

func number(t *testing.T, v any) int64 {
	t.Helper()
	n, ok := v.(json.Number)
	if !ok {
		t.Fatalf("%v (%T) is not a number", v, v)
	}
	i, err := n.Int64()
	if err != nil {
		t.Fatalf("%v is not an integer", v)
	}
	return i
}

// sameAnswer is an error body without the parts that differ on every request.
func sameAnswer(t *testing.T, res stacktest.Response) string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(res.Body, &m); err != nil {
		t.Fatalf("not JSON: %s", res.Body)
	}
	delete(m, "traceId")
	delete(m, "timestamp")
	out, _ := json.Marshal(m)
	return strconv.Itoa(res.Status) + " " + string(out)
}

func TestLogin(t *testing.T) {
	t.Parallel()
	st := stacktest.Start(t)

	a := signup(t, st)

	t.Run("issues a working pair", func(t *testing.T) {
		t.Parallel()
		before := time.Now().Add(-2 * time.Second)
		// Usernames are matched in any case.
		p := st.Login(t, strings.ToUpper(a.Username), a.Password)
		if p.TokenType != "Bearer" || p.ExpiresIn != 900 || p.AccessToken == "" {
			t.Fatalf("pair = %+v", p)
		}

		var me struct {
			UserID   uuid.UUID `json:"userId"`
			Username string    `json:"username"`
			Nickname string    `json:"nickname"`
			UserRole string    `json:"userRole"`
		}
		st.Do(t, "GET", "/api/v1/users/me", nil, p.AccessToken).Data(t, &me)
		if me.UserID != a.ID || me.Username != a.Username {
			t.Fatalf("me = %+v, want %s %s", me, a.ID, a.Username)
		}

		// The refresh token is opaque: "<32-hex family id>.<secret>".
		family, secret, ok := strings.Cut(p.RefreshToken, ".")
		if _, err := hex.DecodeString(family); !ok || len(family) != 32 || err != nil || len(secret) < 32 {
			t.Errorf("refresh token %q is not <family>.<secret>", p.RefreshToken)
		}

		parts := strings.Split(p.AccessToken, ".")
		if len(parts) != 3 {
			t.Fatalf("access token has %d parts", len(parts))
		}
		header, claims := decodeSegment(t, parts[0]), decodeSegment(t, parts[1])
		if header["alg"] != "EdDSA" || header["kid"] != st.Signer.Kid() {
			t.Errorf("header = %v, want alg EdDSA kid %s", header, st.Signer.Kid())
		}
		jti, _ := claims["jti"].(string)
		if _, err := hex.DecodeString(jti); err != nil || len(jti) != 32 {
			t.Errorf("jti %q", jti)
		}
		want := map[string]any{
			"sub": a.ID.String(), "token_type": "access", "username": a.Username, "role": "USER",
			"nickname": me.Nickname, "sid": family,
		}
		for k, v := range want {
			if claims[k] != v {
				t.Errorf("claim %s = %v, want %v", k, claims[k], v)
			}
		}
		if number(t, claims["ver"]) != 0 {
			t.Errorf("ver = %v, want 0", claims["ver"])
		}
		iat, exp := number(t, claims["iat"]), number(t, claims["exp"])
		if iat < before.Unix() || iat > time.Now().Unix()+1 {
			t.Errorf("iat %d not now (%d)", iat, time.Now().Unix())
		}
		if exp-iat != 15*60 {
			t.Errorf("exp - iat = %ds, want 900", exp-iat)
		}
		for _, k := range []string{"password", "password_hash", "pwd"} {
			if _, ok := claims[k]; ok {
				t.Errorf("claims carry %s", k)
			}
		}
	})

	t.Run("wrong password and unknown user answer alike", func(t *testing.T) {
		t.Parallel()
		wrong := st.Do(t, "POST", loginPath, creds(a.Username, a.Password+"x"), "")
		unknown := st.Do(t, "POST", loginPath, creds(newUsername(), a.Password), "")
		e := wrong.Error(t)
		if wrong.Status != http.StatusUnauthorized || e.Code != "U020" || e.Message != badLogin {
			t.Fatalf("wrong password: status %d: %s", wrong.Status, wrong.Body)
		}
		if w, u := sameAnswer(t, wrong), sameAnswer(t, unknown); w != u {
			t.Errorf("answers differ:\nwrong password: %s\nunknown user:   %s", w, u)
		}
		if w, u := wrong.Header.Get("Content-Type"), unknown.Header.Get("Content-Type"); w != u {
			t.Errorf("content types differ: %q vs %q", w, u)
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
			{"empty object", `{}`, 400, "U001", "username"},
			{"no username", map[string]string{"password": a.Password}, 400, "U001", "username"},
			{"blank username", creds("  ", a.Password), 400, "U001", "username"},
			{"no password", map[string]string{"username": a.Username}, 400, "U003", "password"},
			{"empty password", creds(a.Username, ""), 400, "U003", "password"},
			{"null password", `{"username": "` + a.Username + `", "password": null}`, 400, "U003", "password"},
			{"malformed json", `{"username": `, 400, "C008", ""},
			{"empty body", "", 400, "C008", ""},
			{"unknown field", map[string]string{"username": a.Username, "password": a.Password, "role": "MASTER"}, 400, "C009", "role"},
			{"password as number", `{"username": "` + a.Username + `", "password": 12345678}`, 400, "C010", "password"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				res := st.Do(t, "POST", loginPath, tt.body, "")
				res.RefusedOn(t, tt.status, tt.code, tt.field)
			})
		}
	})

}

// limited is a stack whose login limits are small enough to reach, trusting one proxy hop
// so that each test speaks from client addresses of its own (every test client is
// 127.0.0.1 on one shared Redis).
func limited(t *testing.T) *stacktest.Stack {
	t.Helper()
	cfg, signer := testenv.Config(t)
	cfg.LoginMaxFailures = 3
	cfg.LoginMaxPerClient = 5
	cfg.LoginWindow = time.Minute
	cfg.TrustedProxyHops = 1
	return stacktest.StartWith(t, cfg, signer)
}

// newAddr is a client address no other test uses.
func newAddr() string {
	ip := make(net.IP, net.IPv6len)
	_, _ = rand.Read(ip)
	copy(ip, []byte{0x20, 0x01, 0x0d, 0xb8}) // documentation prefix
	return ip.String()
}

// loginFrom logs in as a client at addr behind the trusted proxy.
func loginFrom(t *testing.T, st *stacktest.Stack, addr string, body map[string]string) stacktest.Response {
	t.Helper()
	raw, _ := json.Marshal(body)
	req, err := http.NewRequest("POST", st.URL+loginPath, bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	// A client-supplied entry on the left must be ignored: only the proxy's counts.
	req.Header.Set("X-Forwarded-For", newAddr()+", "+addr)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return stacktest.Response{Status: res.StatusCode, Header: res.Header, Body: b}
}

func wantStatus(t *testing.T, what string, res stacktest.Response, status int, code string) {
	t.Helper()
	if res.Status != status {
		t.Fatalf("%s: status %d, want %d: %s", what, res.Status, status, res.Body)
	}
	if code != "" {
		if e := res.Error(t); e.Code != code {
			t.Fatalf("%s: code %s, want %s: %s", what, e.Code, code, res.Body)
		}
	}
}

// wantLimited checks a 429 C013 with a Retry-After of whole seconds within the window.
func wantLimited(t *testing.T, what string, res stacktest.Response, window time.Duration) {
	t.Helper()
	wantStatus(t, what, res, http.StatusTooManyRequests, "C013")
	ra := res.Header.Get("Retry-After")
	secs, err := strconv.Atoi(ra)
	if err != nil || secs < 1 || secs > int(window.Seconds()) {
		t.Errorf("%s: Retry-After %q, want whole seconds in 1..%d", what, ra, int(window.Seconds()))
	}
}

// TestLoginRateLimits is the limit as a client behind the trusted proxy meets it: the
// proxy's address counts, not one the client put before it, and the 429 says when to come
// back. The limits' rules are users.SignIn's (shared/users signin_test.go).
func TestLoginRateLimits(t *testing.T) {
	t.Parallel()
	st := limited(t)
	window := st.Config.LoginWindow

	t.Run("attempts per client address", func(t *testing.T) {
		t.Parallel()
		a := signup(t, st)
		addr := newAddr()
		for i := range 5 {
			wantStatus(t, "attempt "+strconv.Itoa(i+1), loginFrom(t, st, addr, creds(newUsername(), "Wrong!pass1")), 401, "U020")
		}
		// The 6th attempt is refused whatever the username and password.
		wantLimited(t, "6th attempt", loginFrom(t, st, addr, creds(a.Username, a.Password)), window)
		// Another client is not affected, nor is the account.
		wantStatus(t, "another client", loginFrom(t, st, newAddr(), creds(a.Username, a.Password)), 200, "")
	})
}
