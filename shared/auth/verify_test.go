package auth_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"

	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/fault"
	"github.com/8949market/market/shared/telemetry"
	"github.com/8949market/market/shared/testenv"
)

// The messages the middleware answers with.
const (
	msgMissing     = "access token required"
	msgInvalid     = "access token invalid or expired"
	msgRevoked     = "access token revoked"
	msgUnavailable = "service temporarily unavailable"
)

// fixture is one test's world, wired as a process is: a fresh key (unique kid), a signer
// for it, the real Redis denylist, its revocations mirror (running and in step) and a
// verifier trusting only that key and consulting the mirror.
type fixture struct {
	key    auth.SigningKey
	signer *auth.Signer
	deny   *auth.Denylist
	revs   *auth.Revocations
	v      *auth.Verifier
}

func newFixture(t testing.TB) fixture {
	t.Helper()
	return fixtureOn(t, testenv.Key(t), testenv.Redis(t))
}

// fixtureOn is a process of its own on rdb, trusting key.
func fixtureOn(t testing.TB, key auth.SigningKey, rdb *redis.Client) fixture {
	t.Helper()
	deny := auth.NewDenylist(rdb)
	revs := runRevocations(t, deny)
	waitInStep(t, revs)
	return fixture{key: key, signer: auth.NewSigner(key), deny: deny, revs: revs, v: auth.NewVerifier(key.PublicKeys(), revs)}
}

// peer is another process trusting the same key: its own Redis client, denylist, mirror
// and verifier.
func (f fixture) peer(t testing.TB) fixture {
	t.Helper()
	return fixtureOn(t, f.key, testenv.Redis(t))
}

// allowAll is a DenyChecker that never denies.
type allowAll struct{}

func (allowAll) Denied(context.Context, string, uuid.UUID, int64) (bool, error) {
	return false, nil
}

// accessClaims are the claims of a valid access token for userID issued at iat.
func accessClaims(userID uuid.UUID, iat time.Time) auth.AccessClaims {
	return auth.AccessClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Subject:   userID.String(),
			ID:        auth.NewTokenID(),
			IssuedAt:  jwt.NewNumericDate(iat),
			ExpiresAt: jwt.NewNumericDate(iat.Add(15 * time.Minute)),
		},
		TokenType: auth.TokenTypeAccess,
		Username:  "alice",
		Role:      auth.RoleUser,
		Nickname:  "Alice",
	}
}

// claimsMap is accessClaims as a map, so a case can drop a claim altogether.
func claimsMap(userID uuid.UUID, iat time.Time) jwt.MapClaims {
	return jwt.MapClaims{
		"sub":        userID.String(),
		"jti":        auth.NewTokenID(),
		"iat":        iat.Unix(),
		"exp":        iat.Add(15 * time.Minute).Unix(),
		"token_type": auth.TokenTypeAccess,
		"username":   "alice",
		"role":       string(auth.RoleUser),
		"nickname":   "Alice",
	}
}

func sign(t testing.TB, s *auth.Signer, c jwt.Claims) string {
	t.Helper()
	tok, err := s.Sign(c)
	if err != nil {
		t.Fatalf("sign: %v", err)
	}
	return tok
}

func b64(v any) string {
	raw, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(raw)
}

// do sends a request with the given headers through v.Require around a handler that
// echoes the identity in its context. seen is the identity the handler got, nil when
// it was not called.
func do(t *testing.T, v *auth.Verifier, ctx context.Context, headers map[string]string) (rec *httptest.ResponseRecorder, seen *auth.Identity) {
	t.Helper()
	h := v.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, ok := auth.FromContext(r.Context())
		if !ok {
			t.Error("handler reached without an identity in its context")
		}
		seen = &id
		w.Header().Set("Content-Type", "application/json")
		if err := json.NewEncoder(w).Encode(id); err != nil {
			t.Errorf("echo identity: %v", err)
		}
	}))
	req := httptest.NewRequestWithContext(ctx, http.MethodGet, "/me", nil)
	for k, val := range headers {
		req.Header.Set(k, val)
	}
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec, seen
}

func bearer(t *testing.T, v *auth.Verifier, token string) (*httptest.ResponseRecorder, *auth.Identity) {
	t.Helper()
	return do(t, v, context.Background(), map[string]string{"Authorization": "Bearer " + token})
}

// assertFault checks that the handler was not reached and that the answer is the error
// body with the given status, code and message.
func assertFault(t *testing.T, rec *httptest.ResponseRecorder, seen *auth.Identity, status int, code, msg string) {
	t.Helper()
	if seen != nil {
		t.Errorf("inner handler was called with %+v", *seen)
	}
	if rec.Code != status {
		t.Errorf("status = %d, want %d; body %s", rec.Code, status, rec.Body)
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(rec.Body.Bytes(), &keys); err != nil {
		t.Fatalf("body is not a JSON object: %v: %s", err, rec.Body)
	}
	if _, ok := keys["traceId"]; !ok {
		t.Errorf("body has no traceId field: %s", rec.Body)
	}
	var body struct {
		Status  int    `json:"status"`
		Code    string `json:"code"`
		Error   string `json:"error"`
		Message string `json:"message"`
		TraceID string `json:"traceId"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatalf("decode error body: %v: %s", err, rec.Body)
	}
	if body.Status != status || body.Code != code || body.Message != msg {
		t.Errorf("body = {status %d, code %q, message %q}, want {%d, %q, %q}",
			body.Status, body.Code, body.Message, status, code, msg)
	}
	wantName := map[int]string{http.StatusUnauthorized: "UNAUTHORIZED", http.StatusServiceUnavailable: "SERVICE_UNAVAILABLE"}[status]
	if body.Error != wantName {
		t.Errorf("error = %q, want %q", body.Error, wantName)
	}
}

func assertUnauthorized(t *testing.T, rec *httptest.ResponseRecorder, seen *auth.Identity, msg string) {
	t.Helper()
	assertFault(t, rec, seen, http.StatusUnauthorized, "C002", msg)
}

// assertAccepted checks that the handler was reached with an identity for userID and
// answered 200.
func assertAccepted(t *testing.T, rec *httptest.ResponseRecorder, seen *auth.Identity, userID uuid.UUID) {
	t.Helper()
	if rec.Code != http.StatusOK {
		t.Fatalf("status = %d, want 200; body %s", rec.Code, rec.Body)
	}
	if seen == nil {
		t.Fatal("inner handler was not called")
	}
	if seen.UserID != userID {
		t.Errorf("UserID = %s, want %s", seen.UserID, userID)
	}
}

func TestRequireRefusesMissingCredentials(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	tok, _, err := f.signer.Access(auth.Identity{UserID: uuid.New(), Username: "alice", Role: auth.RoleUser}, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		headers map[string]string
	}{
		{"no Authorization header", nil},
		{"empty Authorization header", map[string]string{"Authorization": ""}},
		{"Basic scheme", map[string]string{"Authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte("alice:secret"))}},
		{"valid token under Basic scheme", map[string]string{"Authorization": "Basic " + tok}},
		{"token without scheme", map[string]string{"Authorization": tok}},
		{"Bearer without token", map[string]string{"Authorization": "Bearer"}},
		{"Bearer with empty token", map[string]string{"Authorization": "Bearer "}},
		{"Bearer with blank token", map[string]string{"Authorization": "Bearer    "}},
		{"Bearerish scheme", map[string]string{"Authorization": "Bearer-" + tok}},
		{"identity headers only", map[string]string{"X-User-Id": uuid.NewString(), "X-User-Role": "MASTER", "X-Username": "root"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec, seen := do(t, f.v, context.Background(), tt.headers)
			assertUnauthorized(t, rec, seen, msgMissing)
		})
	}
}

func TestRequireRefusesMalformedTokens(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	random := func(n int) string {
		b := make([]byte, n)
		_, _ = rand.Read(b)
		return base64.RawURLEncoding.EncodeToString(b)
	}
	valid := sign(t, f.signer, accessClaims(uuid.New(), time.Now()))
	parts := strings.Split(valid, ".")
	tests := []struct {
		name, token string
	}{
		{"one segment", "abc"},
		{"three tiny segments", "a.b.c"},
		{"random base64 segments", random(24) + "." + random(48) + "." + random(64)},
		{"two segments", parts[0] + "." + parts[1]},
		{"four segments", valid + "." + parts[2]},
		{"header not JSON", random(12) + "." + parts[1] + "." + parts[2]},
		{"payload not JSON", parts[0] + "." + random(30) + "." + parts[2]},
		{"payload not base64", parts[0] + ".!!!." + parts[2]},
		{"signature not base64", parts[0] + "." + parts[1] + ".***"},
		{"empty signature", parts[0] + "." + parts[1] + "."},
		{"random signature", parts[0] + "." + parts[1] + "." + random(64)},
		{"dots only", ".."},
		{"embedded space", parts[0] + "." + parts[1] + " ." + parts[2]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec, seen := bearer(t, f.v, tt.token)
			assertUnauthorized(t, rec, seen, msgInvalid)
		})
	}
}

// TestRequireRefusesForgedTokens covers tokens that parse but must not be trusted: bad
// times, bad keys, bad algorithms and tampering.
func TestRequireRefusesForgedTokens(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	pub := f.key.Key.Public().(ed25519.PublicKey)

	// control: the construction every case starts from is accepted.
	userID := uuid.New()
	rec, seen := bearer(t, f.v, sign(t, f.signer, accessClaims(userID, time.Now())))
	assertAccepted(t, rec, seen, userID)

	tests := []struct {
		name  string
		forge func(t *testing.T) string
	}{
		{"expired beyond leeway", func(t *testing.T) string {
			c := accessClaims(uuid.New(), time.Now().Add(-time.Hour))
			c.ExpiresAt = jwt.NewNumericDate(time.Now().Add(-time.Minute))
			return sign(t, f.signer, c)
		}},
		{"expired just beyond leeway", func(t *testing.T) string {
			c := accessClaims(uuid.New(), time.Now().Add(-time.Hour))
			c.ExpiresAt = jwt.NewNumericDate(time.Now().Add(-7 * time.Second))
			return sign(t, f.signer, c)
		}},
		{"no exp", func(t *testing.T) string {
			c := accessClaims(uuid.New(), time.Now())
			c.ExpiresAt = nil
			return sign(t, f.signer, c)
		}},
		{"issued in the future beyond leeway", func(t *testing.T) string {
			return sign(t, f.signer, accessClaims(uuid.New(), time.Now().Add(time.Minute)))
		}},
		{"not valid before a future instant", func(t *testing.T) string {
			c := accessClaims(uuid.New(), time.Now())
			c.NotBefore = jwt.NewNumericDate(time.Now().Add(time.Minute))
			return sign(t, f.signer, c)
		}},
		{"signed by a key with an unknown kid", func(t *testing.T) string {
			return sign(t, auth.NewSigner(testenv.Key(t)), accessClaims(uuid.New(), time.Now()))
		}},
		{"signed by another key under the known kid", func(t *testing.T) string {
			other := testenv.Key(t)
			other.Kid = f.key.Kid
			return sign(t, auth.NewSigner(other), accessClaims(uuid.New(), time.Now()))
		}},
		{"no kid header, signed by the trusted key", func(t *testing.T) string {
			tok, err := jwt.NewWithClaims(jwt.SigningMethodEdDSA, accessClaims(uuid.New(), time.Now())).SignedString(f.key.Key)
			if err != nil {
				t.Fatal(err)
			}
			return tok
		}},
		{"empty kid header, signed by the trusted key", func(t *testing.T) string {
			tk := jwt.NewWithClaims(jwt.SigningMethodEdDSA, accessClaims(uuid.New(), time.Now()))
			tk.Header["kid"] = ""
			tok, err := tk.SignedString(f.key.Key)
			if err != nil {
				t.Fatal(err)
			}
			return tok
		}},
		{"kid header not a string, signed by the trusted key", func(t *testing.T) string {
			tk := jwt.NewWithClaims(jwt.SigningMethodEdDSA, accessClaims(uuid.New(), time.Now()))
			tk.Header["kid"] = []string{f.key.Kid}
			tok, err := tk.SignedString(f.key.Key)
			if err != nil {
				t.Fatal(err)
			}
			return tok
		}},
		{"alg none built by hand", func(t *testing.T) string {
			h := b64(map[string]string{"alg": "none", "typ": "JWT", "kid": f.key.Kid})
			return h + "." + b64(claimsMap(uuid.New(), time.Now())) + "."
		}},
		{"alg NONE built by hand", func(t *testing.T) string {
			h := b64(map[string]string{"alg": "NONE", "typ": "JWT", "kid": f.key.Kid})
			return h + "." + b64(claimsMap(uuid.New(), time.Now())) + "."
		}},
		{"alg none keeping a valid EdDSA signature", func(t *testing.T) string {
			valid := sign(t, f.signer, accessClaims(uuid.New(), time.Now()))
			parts := strings.Split(valid, ".")
			h := b64(map[string]string{"alg": "none", "typ": "JWT", "kid": f.key.Kid})
			return h + "." + parts[1] + "." + parts[2]
		}},
		{"alg none via the library", func(t *testing.T) string {
			tk := jwt.NewWithClaims(jwt.SigningMethodNone, accessClaims(uuid.New(), time.Now()))
			tk.Header["kid"] = f.key.Kid
			tok, err := tk.SignedString(jwt.UnsafeAllowNoneSignatureType)
			if err != nil {
				t.Fatal(err)
			}
			return tok
		}},
		{"HS256 with the public key bytes as secret", func(t *testing.T) string {
			tk := jwt.NewWithClaims(jwt.SigningMethodHS256, accessClaims(uuid.New(), time.Now()))
			tk.Header["kid"] = f.key.Kid
			tok, err := tk.SignedString([]byte(pub))
			if err != nil {
				t.Fatal(err)
			}
			return tok
		}},
		{"HS256 with the JWK x string as secret", func(t *testing.T) string {
			tk := jwt.NewWithClaims(jwt.SigningMethodHS256, accessClaims(uuid.New(), time.Now()))
			tk.Header["kid"] = f.key.Kid
			tok, err := tk.SignedString([]byte(f.key.Public().X))
			if err != nil {
				t.Fatal(err)
			}
			return tok
		}},
		{"payload tampered USER to MASTER", func(t *testing.T) string {
			valid := sign(t, f.signer, accessClaims(uuid.New(), time.Now()))
			return tamper(t, valid, func(m map[string]any) { m["role"] = string(auth.RoleMaster) })
		}},
		{"payload tampered to another user", func(t *testing.T) string {
			valid := sign(t, f.signer, accessClaims(uuid.New(), time.Now()))
			return tamper(t, valid, func(m map[string]any) { m["sub"] = uuid.NewString() })
		}},
		{"payload tampered to a later expiry", func(t *testing.T) string {
			c := accessClaims(uuid.New(), time.Now().Add(-time.Hour))
			c.ExpiresAt = jwt.NewNumericDate(time.Now().Add(-time.Minute))
			return tamper(t, sign(t, f.signer, c), func(m map[string]any) {
				m["exp"] = time.Now().Add(time.Hour).Unix()
			})
		}},
		{"payload of one token, signature of another", func(t *testing.T) string {
			a := strings.Split(sign(t, f.signer, accessClaims(uuid.New(), time.Now())), ".")
			master := accessClaims(uuid.New(), time.Now())
			master.Role = auth.RoleMaster
			b := strings.Split(sign(t, auth.NewSigner(testenv.Key(t)), master), ".")
			return a[0] + "." + b[1] + "." + a[2]
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec, seen := bearer(t, f.v, tt.forge(t))
			assertUnauthorized(t, rec, seen, msgInvalid)
		})
	}
}

// tamper rewrites the payload of token with edit and keeps its header and signature.
func tamper(t *testing.T, token string, edit func(map[string]any)) string {
	t.Helper()
	parts := strings.Split(token, ".")
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	edit(m)
	forged := parts[0] + "." + b64(m) + "." + parts[2]
	if forged == token {
		t.Fatal("tamper changed nothing")
	}
	return forged
}

// TestRequireRefusesBadClaims covers correctly signed tokens whose claims are not those
// of an access token.
func TestRequireRefusesBadClaims(t *testing.T) {
	t.Parallel()
	f := newFixture(t)

	control := uuid.New()
	rec, seen := bearer(t, f.v, sign(t, f.signer, claimsMap(control, time.Now())))
	assertAccepted(t, rec, seen, control)

	tests := []struct {
		name string
		edit func(jwt.MapClaims)
	}{
		{"refresh token", func(m jwt.MapClaims) { m["token_type"] = "refresh" }},
		{"no token_type", func(m jwt.MapClaims) { delete(m, "token_type") }},
		{"empty token_type", func(m jwt.MapClaims) { m["token_type"] = "" }},
		{"token_type in other case", func(m jwt.MapClaims) { m["token_type"] = "ACCESS" }},
		{"token_type not a string", func(m jwt.MapClaims) { m["token_type"] = 1 }},
		{"no sub", func(m jwt.MapClaims) { delete(m, "sub") }},
		{"empty sub", func(m jwt.MapClaims) { m["sub"] = "" }},
		{"sub not a uuid", func(m jwt.MapClaims) { m["sub"] = "alice" }},
		{"sub not a string", func(m jwt.MapClaims) { m["sub"] = 42 }},
		{"no jti", func(m jwt.MapClaims) { delete(m, "jti") }},
		{"empty jti", func(m jwt.MapClaims) { m["jti"] = "" }},
		{"no iat", func(m jwt.MapClaims) { delete(m, "iat") }},
		{"iat not a number", func(m jwt.MapClaims) { m["iat"] = "yesterday" }},
		{"exp not a number", func(m jwt.MapClaims) { m["exp"] = "tomorrow" }},
		{"unknown role", func(m jwt.MapClaims) { m["role"] = "ADMIN" }},
		{"role in lower case", func(m jwt.MapClaims) { m["role"] = "master" }},
		{"no role", func(m jwt.MapClaims) { delete(m, "role") }},
		{"role not a string", func(m jwt.MapClaims) { m["role"] = []string{"MASTER"} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := claimsMap(uuid.New(), time.Now())
			tt.edit(m)
			rec, seen := bearer(t, f.v, sign(t, f.signer, m))
			assertUnauthorized(t, rec, seen, msgInvalid)
		})
	}
}

func TestRequireAcceptsValidToken(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	who := auth.Identity{UserID: uuid.New(), Username: "alice", Nickname: "Alice W.", Role: auth.RoleManager}
	tok, want, err := f.signer.Access(who, 15*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if want.TokenID == "" || want.IssuedAt.IsZero() || !want.ExpiresAt.Equal(want.IssuedAt.Add(15*time.Minute)) {
		t.Fatalf("Access returned identity %+v", want)
	}

	tests := []struct {
		name    string
		headers map[string]string
	}{
		{"plain", map[string]string{"Authorization": "Bearer " + tok}},
		{"lower-case scheme", map[string]string{"Authorization": "bearer " + tok}},
		{"extra spaces", map[string]string{"Authorization": "Bearer   " + tok + "  "}},
		{"identity headers ignored", map[string]string{
			"Authorization":   "Bearer " + tok,
			"X-User-Id":       uuid.NewString(),
			"X-User-Role":     string(auth.RoleMaster),
			"X-Role":          string(auth.RoleMaster),
			"X-Username":      "mallory",
			"X-User-Nickname": "Mallory",
			"X-Nickname":      "Mallory",
			"X-Token-Id":      "forged",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec, seen := do(t, f.v, context.Background(), tt.headers)
			assertAccepted(t, rec, seen, who.UserID)
			var echoed auth.Identity
			if err := json.Unmarshal(rec.Body.Bytes(), &echoed); err != nil {
				t.Fatalf("decode echoed identity: %v: %s", err, rec.Body)
			}
			for _, got := range []auth.Identity{*seen, echoed} {
				if got.UserID != want.UserID || got.Username != want.Username || got.Nickname != want.Nickname ||
					got.Role != want.Role || got.TokenID != want.TokenID ||
					!got.IssuedAt.Equal(want.IssuedAt) || !got.ExpiresAt.Equal(want.ExpiresAt) {
					t.Errorf("identity = %+v, want %+v", got, want)
				}
			}
			if !seen.IsAdmin() || !seen.Owns(who.UserID) || seen.Owns(uuid.New()) {
				t.Errorf("IsAdmin/Owns wrong for %+v", *seen)
			}
		})
	}
}

// A token that expired less than the 5s leeway ago is still accepted: the leeway
// absorbs clock skew between the signing and the verifying function.
func TestRequireAcceptsTokenWithinLeeway(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	userID := uuid.New()
	c := accessClaims(userID, time.Now().Add(-15*time.Minute))
	c.ExpiresAt = jwt.NewNumericDate(time.Now().Add(-time.Second))
	rec, seen := bearer(t, f.v, sign(t, f.signer, c))
	assertAccepted(t, rec, seen, userID)
}

func TestRequireTraceIDInErrorBody(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	tr := struct{ TraceID string }{"4bf92f3577b34da6a3ce929d0e0e4736"}
	rec, seen := do(t, f.v, telemetry.WithTraceparent(context.Background(), "00-"+tr.TraceID+"-00f067aa0ba902b7-01"), map[string]string{"Authorization": "Bearer abc"})
	assertUnauthorized(t, rec, seen, msgInvalid)
	var body struct {
		TraceID string `json:"traceId"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatal(err)
	}
	if body.TraceID != tr.TraceID {
		t.Errorf("traceId = %q, want %q", body.TraceID, tr.TraceID)
	}
}

func TestRequireRefusesDenylistedTokens(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	who := auth.Identity{UserID: uuid.New(), Username: "alice", Role: auth.RoleUser}

	type issued struct {
		token string
		id    auth.Identity
	}
	var toks []issued
	for range 4 {
		tok, id, err := f.signer.Access(who, 15*time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		toks = append(toks, issued{tok, id})
	}
	for _, it := range toks {
		rec, seen := bearer(t, f.v, it.token)
		assertAccepted(t, rec, seen, who.UserID)
	}

	// Deny the first, check the others still pass, then deny two more.
	if err := f.deny.DenyToken(ctx, toks[0].id.TokenID, toks[0].id.ExpiresAt); err != nil {
		t.Fatal(err)
	}
	rec, seen := bearer(t, f.v, toks[0].token)
	assertUnauthorized(t, rec, seen, msgRevoked)
	for _, it := range toks[1:] {
		rec, seen := bearer(t, f.v, it.token)
		assertAccepted(t, rec, seen, who.UserID)
	}

	for _, it := range toks[1:3] {
		if err := f.deny.DenyToken(ctx, it.id.TokenID, it.id.ExpiresAt); err != nil {
			t.Fatal(err)
		}
	}
	for i, it := range toks[:3] {
		rec, seen := bearer(t, f.v, it.token)
		if seen != nil {
			t.Errorf("denied token %d accepted", i)
		}
		assertUnauthorized(t, rec, seen, msgRevoked)
	}
	rec, seen = bearer(t, f.v, toks[3].token)
	assertAccepted(t, rec, seen, who.UserID)

	// The verifier reports the revocation as its named fault.
	if _, err := f.v.Verify(ctx, toks[0].token); !errors.Is(err, auth.ErrTokenRevoked) {
		t.Errorf("Verify(denied) = %v, want ErrTokenRevoked", err)
	}
}

func TestRequireRefusesTokensOfRevokedUser(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	userID, other := uuid.New(), uuid.New()
	now := time.Now()
	withVersion := func(user uuid.UUID, ver int64) string {
		c := accessClaims(user, now)
		c.Version = ver
		return sign(t, f.signer, c)
	}
	// Version 1 is current before the revocation; tokens of the same second but a later
	// version (a login right after a password change) must still pass.
	before, sameSecondOld := withVersion(userID, 0), withVersion(userID, 1)
	after := withVersion(userID, 2)
	otherUser := withVersion(other, 0)
	if err := f.deny.RevokeUser(ctx, userID, 2, 15*time.Minute); err != nil {
		t.Fatal(err)
	}
	for name, tok := range map[string]string{"older version": before, "previous version, same second": sameSecondOld} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			rec, seen := bearer(t, f.v, tok)
			assertUnauthorized(t, rec, seen, msgRevoked)
		})
	}
	t.Run("current version, same second", func(t *testing.T) {
		t.Parallel()
		rec, seen := bearer(t, f.v, after)
		assertAccepted(t, rec, seen, userID)
	})
	t.Run("other user", func(t *testing.T) {
		t.Parallel()
		rec, seen := bearer(t, f.v, otherUser)
		assertAccepted(t, rec, seen, other)
	})
}

// unreachableRedis is a client on a port nothing listens on.
func unreachableRedis(t testing.TB) *redis.Client {
	t.Helper()
	rdb := redis.NewClient(&redis.Options{
		Addr:        "127.0.0.1:1",
		DialTimeout: 200 * time.Millisecond,
		MaxRetries:  -1,
	})
	t.Cleanup(func() { _ = rdb.Close() })
	return rdb
}

func TestRequireFailsClosedWhenRedisIsDown(t *testing.T) {
	t.Parallel()
	key := testenv.Key(t)
	v := auth.NewVerifier(key.PublicKeys(), auth.NewDenylist(unreachableRedis(t)))
	tok, _, err := auth.NewSigner(key).Access(auth.Identity{UserID: uuid.New(), Username: "alice", Role: auth.RoleUser}, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	rec, seen := bearer(t, v, tok)
	assertFault(t, rec, seen, http.StatusServiceUnavailable, "C014", msgUnavailable)

	_, err = v.Verify(context.Background(), tok)
	if !errors.Is(err, fault.ErrUnavailable) {
		t.Errorf("Verify = %v, want ErrUnavailable", err)
	}

	// A bad token is still refused as such: the signature is checked before Redis.
	rec, seen = bearer(t, v, "a.b.c")
	assertUnauthorized(t, rec, seen, msgInvalid)
}

func TestRequireKeyRotation(t *testing.T) {
	t.Parallel()
	deny := auth.NewDenylist(testenv.Redis(t))
	oldKey, newKey := testenv.Key(t), testenv.Key(t)
	both := maps.Clone(oldKey.PublicKeys())
	maps.Copy(both, newKey.PublicKeys())

	oldUser, newUser := uuid.New(), uuid.New()
	oldTok := sign(t, auth.NewSigner(oldKey), accessClaims(oldUser, time.Now()))
	newTok := sign(t, auth.NewSigner(newKey), accessClaims(newUser, time.Now()))

	during := auth.NewVerifier(both, deny)
	after := auth.NewVerifier(newKey.PublicKeys(), deny)

	t.Run("both trusted", func(t *testing.T) {
		t.Parallel()
		rec, seen := bearer(t, during, oldTok)
		assertAccepted(t, rec, seen, oldUser)
		rec, seen = bearer(t, during, newTok)
		assertAccepted(t, rec, seen, newUser)
	})
	t.Run("old key dropped", func(t *testing.T) {
		t.Parallel()
		rec, seen := bearer(t, after, oldTok)
		assertUnauthorized(t, rec, seen, msgInvalid)
		rec, seen = bearer(t, after, newTok)
		assertAccepted(t, rec, seen, newUser)
	})
	t.Run("key set from published JWKS", func(t *testing.T) {
		t.Parallel()
		doc, err := json.Marshal(both.JWKS())
		if err != nil {
			t.Fatal(err)
		}
		keys, err := auth.ParsePublicKeys(string(doc))
		if err != nil {
			t.Fatal(err)
		}
		v := auth.NewVerifier(keys, deny)
		if got := v.Keys(); len(got) != 2 {
			t.Errorf("Keys() has %d keys, want 2", len(got))
		}
		rec, seen := bearer(t, v, oldTok)
		assertAccepted(t, rec, seen, oldUser)
		rec, seen = bearer(t, v, newTok)
		assertAccepted(t, rec, seen, newUser)
	})
}

// One Verifier serves concurrent requests (run under -race).
func TestVerifyConcurrent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	const n = 16
	users := make([]uuid.UUID, n)
	toks := make([]string, n)
	for i := range n {
		users[i] = uuid.New()
		toks[i] = sign(t, f.signer, accessClaims(users[i], time.Now()))
	}
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			for range 10 {
				id, err := f.v.Verify(ctx, toks[i])
				if err != nil {
					t.Errorf("Verify token %d: %v", i, err)
					return
				}
				if id.UserID != users[i] {
					t.Errorf("token %d verified as %s, want %s", i, id.UserID, users[i])
					return
				}
				if _, err := f.v.Verify(ctx, toks[i]+"x"); err == nil {
					t.Errorf("token %d with a bad signature verified", i)
					return
				}
			}
		})
	}
	wg.Wait()
}

// A token the verifier has accepted (and cached) stops being accepted once it expires,
// exactly as an uncached one: the cache never outlives exp plus leeway.
func TestVerifyCachedTokenExpires(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	c := accessClaims(uuid.New(), time.Now())
	c.ExpiresAt = jwt.NewNumericDate(time.Now().Add(time.Second))
	tok := sign(t, f.signer, c)
	if _, err := f.v.Verify(ctx, tok); err != nil {
		t.Fatalf("fresh token refused: %v", err)
	}
	deadline := time.Now().Add(auth.Leeway + 10*time.Second)
	for {
		_, err := f.v.Verify(ctx, tok)
		if err != nil {
			if !errors.Is(err, auth.ErrTokenInvalid) {
				t.Fatalf("Verify after expiry = %v, want ErrTokenInvalid", err)
			}
			if early := c.ExpiresAt.Add(auth.Leeway - time.Second); time.Now().Before(early) {
				t.Fatalf("refused at %v, before exp plus leeway (%v)", time.Now(), c.ExpiresAt.Add(auth.Leeway))
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("cached token still accepted well after exp plus leeway")
		}
		time.Sleep(50 * time.Millisecond) // polling the clock, not waiting for async work
	}
}
