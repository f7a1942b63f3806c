// Package pushauthtest is Google's ID token issuer for tests: it signs tokens as Google
// does (RS256, its issuer, audience and email claims) and serves the matching
// certificates to a pushauth verifier in place of www.googleapis.com.
//
//	g := pushauthtest.NewGoogle(t)
//	v, _ := pushauth.New(ctx, cfg, g.Option())
//	req.Header.Set("Authorization", "Bearer "+g.Token(t, pushauthtest.Claims{Audience: url, Email: sa}))
package pushauthtest

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"io"
	"math/big"
	"net/http"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"google.golang.org/api/option"

	"github.com/8949market/market/shared/pushauth"
)

// Google signs ID tokens with a key of its own and serves its certificates.
type Google struct {
	key *rsa.PrivateKey
	kid string
}

// NewGoogle makes an issuer with a fresh key.
func NewGoogle(t testing.TB) *Google {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatalf("pushauthtest: %v", err)
	}
	return &Google{key: key, kid: "test-google-key"}
}

// Claims are the claims of one token; zero values take Google's (its issuer, a verified
// email, valid for an hour).
type Claims struct {
	Audience   string
	Email      string
	Issuer     string
	Unverified bool
	Expires    time.Time
}

// Token signs c as Google would.
func (g *Google) Token(t testing.TB, c Claims) string {
	t.Helper()
	return g.sign(t, g.key, c)
}

// Forged signs c with a key Google never published, under Google's key id.
func (g *Google) Forged(t testing.TB, c Claims) string {
	t.Helper()
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatalf("pushauthtest: %v", err)
	}
	return g.sign(t, other, c)
}

func (g *Google) sign(t testing.TB, key *rsa.PrivateKey, c Claims) string {
	t.Helper()
	if c.Issuer == "" {
		c.Issuer = "https://accounts.google.com"
	}
	if c.Expires.IsZero() {
		c.Expires = time.Now().Add(time.Hour)
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{
		"iss": c.Issuer, "aud": c.Audience, "sub": "1234567890",
		"email": c.Email, "email_verified": !c.Unverified,
		"iat": time.Now().Unix(), "exp": c.Expires.Unix(),
	})
	tok.Header["kid"] = g.kid
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatalf("pushauthtest: sign: %v", err)
	}
	return s
}

// Option makes a verifier fetch this issuer's certificates instead of Google's.
func (g *Google) Option() pushauth.Option {
	return pushauth.WithGoogleOptions(option.WithHTTPClient(&http.Client{Transport: certs{g}}))
}

// certs answers every request with the issuer's JWKS, as Google's certificate URL does.
type certs struct{ g *Google }

func (c certs) RoundTrip(r *http.Request) (*http.Response, error) {
	pub := c.g.key.PublicKey
	body, err := json.Marshal(map[string]any{"keys": []map[string]string{{
		"kid": c.g.kid, "kty": "RSA", "alg": "RS256", "use": "sig",
		"n": base64.RawURLEncoding.EncodeToString(pub.N.Bytes()),
		"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(pub.E)).Bytes()),
	}}})
	if err != nil {
		return nil, err
	}
	return &http.Response{
		StatusCode: http.StatusOK, Request: r,
		Header: http.Header{"Content-Type": {"application/json"}, "Cache-Control": {"public, max-age=3600"}},
		Body:   io.NopCloser(bytes.NewReader(body)),
	}, nil
}
