package jwks_test

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"maps"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/devstack/stacktest"
	"github.com/8949market/market/shared/testenv"
)

const (
	jwksPath   = "/api/v1/auth/jwks"
	mePath     = "/api/v1/users/me"
	msgInvalid = "access token invalid or expired"
)

var b64 = base64.RawURLEncoding

// published fetches the key set and returns the stack's key in it (as raw JSON fields, so
// that a private part would show) with its decoded public key.
func published(t *testing.T, st *stacktest.Stack) (map[string]any, ed25519.PublicKey) {
	t.Helper()
	res := st.Do(t, "GET", jwksPath, nil, "")
	if res.Status != http.StatusOK {
		t.Fatalf("jwks: status %d: %s", res.Status, res.Body)
	}
	if ct := res.Header.Get("Content-Type"); ct != "application/jwk-set+json" {
		t.Errorf("Content-Type %q, want application/jwk-set+json", ct)
	}
	var set struct {
		Keys []map[string]any `json:"keys"`
	}
	if err := json.Unmarshal(res.Body, &set); err != nil {
		t.Fatalf("jwks is not a key set: %v: %s", err, res.Body)
	}
	var mine map[string]any
	for _, k := range set.Keys {
		for _, private := range []string{"d", "p", "q", "dp", "dq", "qi", "k"} {
			if _, ok := k[private]; ok {
				t.Errorf("published key %v carries private member %q", k["kid"], private)
			}
		}
		if k["kid"] == st.Signer.Kid() {
			mine = k
		}
	}
	if mine == nil {
		t.Fatalf("key set lacks the stack's kid %s: %s", st.Signer.Kid(), res.Body)
	}
	x, _ := mine["x"].(string)
	pub, err := b64.DecodeString(x)
	if err != nil || len(pub) != ed25519.PublicKeySize {
		t.Fatalf("x %q is not a base64url Ed25519 key: %v", x, err)
	}
	return mine, ed25519.PublicKey(pub)
}

// payload decodes the claims of a JWT.
func payload(t *testing.T, token string) map[string]any {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("token has %d parts", len(parts))
	}
	raw, err := b64.DecodeString(parts[1])
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

func encode(t *testing.T, v any) string {
	t.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b64.EncodeToString(raw)
}

// sign signs claims with method and key, naming kid.
func sign(t *testing.T, method jwt.SigningMethod, kid string, claims map[string]any, key any) string {
	t.Helper()
	tok := jwt.NewWithClaims(method, jwt.MapClaims(claims))
	tok.Header["kid"] = kid
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestJWKS(t *testing.T) {
	t.Parallel()
	st := stacktest.Start(t)
	u := st.NewUser(t, auth.RoleUser)

	t.Run("publishes the public key", func(t *testing.T) {
		t.Parallel()
		key, pub := published(t, st)
		if key["kty"] != "OKP" || key["crv"] != "Ed25519" {
			t.Errorf("key = %v, want kty OKP crv Ed25519", key)
		}
		if alg, ok := key["alg"]; ok && alg != "EdDSA" {
			t.Errorf("alg %v, want EdDSA", alg)
		}

		// A token the stack issued verifies with the published key alone, as another
		// service would verify it.
		claims := jwt.MapClaims{}
		parsed, err := jwt.ParseWithClaims(u.Access, claims, func(tok *jwt.Token) (any, error) {
			if tok.Header["kid"] != key["kid"] {
				t.Errorf("token kid %v, published kid %v", tok.Header["kid"], key["kid"])
			}
			return pub, nil
		}, jwt.WithValidMethods([]string{"EdDSA"}), jwt.WithExpirationRequired())
		if err != nil || !parsed.Valid {
			t.Fatalf("stack token does not verify with the published key: %v", err)
		}
		if claims["sub"] != u.ID.String() {
			t.Errorf("sub %v, want %s", claims["sub"], u.ID)
		}

		// The key is what makes it verify: another key's token does not.
		other, err := auth.NewSigner(testenv.Key(t)).Sign(claims)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := jwt.Parse(other, func(*jwt.Token) (any, error) { return pub, nil }); err == nil {
			t.Error("a token of another key verified with the published key")
		}
	})

	t.Run("public and cacheable", func(t *testing.T) {
		t.Parallel()
		// A garbage token does not matter on a public route.
		res := st.Do(t, "GET", jwksPath, nil, "garbage")
		if res.Status != http.StatusOK {
			t.Fatalf("status %d: %s", res.Status, res.Body)
		}
		if cc := res.Header.Get("Cache-Control"); !strings.Contains(cc, "max-age=") {
			t.Errorf("Cache-Control %q", cc)
		}
	})

	// Every forgery is refused by another function (users-me) with 401 C002. Each is built
	// from the claims of the user's real token, which a control case shows the stack
	// accepts when signed properly.
	t.Run("forged tokens are refused", func(t *testing.T) {
		t.Parallel()
		_, pub := published(t, st)
		x := b64.EncodeToString(pub)
		kid := st.Signer.Kid()
		real := payload(t, u.Access)
		parts := strings.Split(u.Access, ".")
		now := time.Now()

		// claims is the real token's claims with a fresh jti, changed by edit.
		claims := func(edit func(map[string]any)) map[string]any {
			c := maps.Clone(real)
			c["jti"] = auth.NewTokenID()
			if edit != nil {
				edit(c)
			}
			return c
		}
		mustSign := func(c map[string]any) string {
			s, err := st.Signer.Sign(jwt.MapClaims(c))
			if err != nil {
				t.Fatal(err)
			}
			return s
		}

		control := mustSign(claims(nil))
		if res := st.Do(t, "GET", mePath, nil, control); res.Status != http.StatusOK {
			t.Fatalf("control token (same claims, signed by the stack): status %d: %s", res.Status, res.Body)
		}

		otherKey := testenv.Key(t)
		sameKidOtherKey := auth.NewSigner(auth.SigningKey{Kid: kid, Key: otherKey.Key})
		signedBy := func(s *auth.Signer, c map[string]any) string {
			tok, err := s.Sign(jwt.MapClaims(c))
			if err != nil {
				t.Fatal(err)
			}
			return tok
		}
		tamperedPayload := claims(func(c map[string]any) { c["role"] = "MASTER" })
		tampered := parts[0] + "." + encode(t, tamperedPayload) + "." + parts[2]

		tests := []struct {
			name  string
			token string
		}{
			{"alg none without signature", encode(t, map[string]any{"alg": "none", "typ": "JWT", "kid": kid}) + "." + parts[1] + "."},
			{"alg none with the real signature", encode(t, map[string]any{"alg": "none", "typ": "JWT", "kid": kid}) + "." + parts[1] + "." + parts[2]},
			{"alg none via the library", sign(t, jwt.SigningMethodNone, kid, claims(nil), jwt.UnsafeAllowNoneSignatureType)},
			{"signature stripped", parts[0] + "." + parts[1] + "."},
			{"HS256 keyed with the public key bytes", sign(t, jwt.SigningMethodHS256, kid, claims(nil), []byte(pub))},
			{"HS256 keyed with the published x", sign(t, jwt.SigningMethodHS256, kid, claims(nil), []byte(x))},
			{"unknown kid", signedBy(auth.NewSigner(otherKey), claims(nil))},
			{"empty kid", sign(t, jwt.SigningMethodEdDSA, "", claims(nil), otherKey.Key)},
			{"the stack's kid on another key", signedBy(sameKidOtherKey, claims(nil))},
			{"expired", mustSign(claims(func(c map[string]any) {
				c["iat"], c["exp"] = now.Add(-2*time.Hour).Unix(), now.Add(-time.Hour).Unix()
			}))},
			{"issued in the future", mustSign(claims(func(c map[string]any) {
				c["iat"], c["exp"] = now.Add(time.Hour).Unix(), now.Add(2*time.Hour).Unix()
			}))},
			{"no expiry", mustSign(claims(func(c map[string]any) { delete(c, "exp") }))},
			{"payload tampered to MASTER", tampered},
			{"refresh token as bearer", u.Refresh},
			{"refresh token type", mustSign(claims(func(c map[string]any) { c["token_type"] = "refresh" }))},
			{"token type missing", mustSign(claims(func(c map[string]any) { delete(c, "token_type") }))},
			{"unknown role", mustSign(claims(func(c map[string]any) { c["role"] = "ADMIN" }))},
			{"subject not a uuid", mustSign(claims(func(c map[string]any) { c["sub"] = u.Username }))},
			{"no jti", mustSign(claims(func(c map[string]any) { delete(c, "jti") }))},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				res := st.Do(t, "GET", mePath, nil, tt.token)
				e := res.Error(t)
				if res.Status != http.StatusUnauthorized || e.Code != "C002" || e.Message != msgInvalid {
					t.Errorf("status %d code %s message %q, want 401 C002 %q", res.Status, e.Code, e.Message, msgInvalid)
				}
			})
		}

		// The tampered MASTER token does not open an administrator route either.
		res := st.Do(t, "GET", "/api/v1/users", nil, tampered)
		if e := res.Error(t); res.Status != http.StatusUnauthorized || e.Code != "C002" {
			t.Errorf("admin list with tampered token: status %d: %s", res.Status, res.Body)
		}
	})
}
