package auth_test

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/testenv"
)

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(raw)
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func assertSameSigningKey(t *testing.T, got, want auth.SigningKey) {
	t.Helper()
	if got.Kid != want.Kid {
		t.Errorf("Kid = %q, want %q", got.Kid, want.Kid)
	}
	if !got.Key.Equal(want.Key) {
		t.Error("parsed private key differs from the original")
	}
}

func assertSamePublicKeys(t *testing.T, got, want auth.PublicKeys) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d keys, want %d", len(got), len(want))
	}
	for kid, k := range want {
		if !k.Equal(got[kid]) {
			t.Errorf("key %q differs or is missing", kid)
		}
	}
}

func TestGenerateSigningKeyJWKForm(t *testing.T) {
	t.Parallel()
	key, err := auth.GenerateSigningKey("k1")
	if err != nil {
		t.Fatal(err)
	}
	pub := key.Public()
	if pub.Kty != "OKP" || pub.Crv != "Ed25519" || pub.Kid != "k1" || pub.Alg != "EdDSA" || pub.Use != "sig" || pub.D != "" {
		t.Errorf("Public() = %+v", pub)
	}
	x, err := base64.RawURLEncoding.DecodeString(pub.X)
	if err != nil || len(x) != ed25519.PublicKeySize {
		t.Errorf("x = %q: %d bytes, %v", pub.X, len(x), err)
	}
	priv := key.Private()
	d, err := base64.RawURLEncoding.DecodeString(priv.D)
	if err != nil || len(d) != ed25519.SeedSize {
		t.Errorf("d: %d bytes, %v", len(d), err)
	}
	if priv.X != pub.X {
		t.Error("private JWK has a different x")
	}
	other, err := auth.GenerateSigningKey("k1")
	if err != nil {
		t.Fatal(err)
	}
	if other.Key.Equal(key.Key) {
		t.Error("two generated keys are equal")
	}
}

func TestParseKeysRoundTrip(t *testing.T) {
	t.Parallel()
	key := testenv.Key(t)
	priv := mustJSON(t, key.Private())
	pubSet := mustJSON(t, auth.JWKS{Keys: []auth.JWK{key.Public()}})

	tests := []struct {
		name        string
		priv, pubs  string
		fromFile    bool
		padInlineWS bool
	}{
		{name: "inline"},
		{name: "inline with surrounding whitespace", padInlineWS: true},
		{name: "file", fromFile: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			privSrc, pubSrc := priv, pubSet
			switch {
			case tt.fromFile:
				privSrc = writeFile(t, "signing.json", priv)
				pubSrc = writeFile(t, "jwks.json", pubSet+"\n")
			case tt.padInlineWS:
				privSrc, pubSrc = "\n  "+priv+"  \n", "\t"+pubSet+"\n"
			}
			gotKey, err := auth.ParseSigningKey(privSrc)
			if err != nil {
				t.Fatalf("ParseSigningKey: %v", err)
			}
			assertSameSigningKey(t, gotKey, key)
			gotPubs, err := auth.ParsePublicKeys(pubSrc)
			if err != nil {
				t.Fatalf("ParsePublicKeys: %v", err)
			}
			assertSamePublicKeys(t, gotPubs, key.PublicKeys())

			// What the parsed key signs, the parsed key set verifies.
			userID := uuid.New()
			tok, _, err := auth.NewSigner(gotKey).Access(auth.Identity{UserID: userID, Role: auth.RoleUser}, time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			id, err := auth.NewVerifier(gotPubs, allowAll{}).Verify(context.Background(), tok)
			if err != nil || id.UserID != userID {
				t.Errorf("Verify = %+v, %v", id, err)
			}
		})
	}
}

func TestParsePublicKeysIgnoresPrivateParts(t *testing.T) {
	t.Parallel()
	key := testenv.Key(t)
	got, err := auth.ParsePublicKeys(mustJSON(t, auth.JWKS{Keys: []auth.JWK{key.Private()}}))
	if err != nil {
		t.Fatal(err)
	}
	assertSamePublicKeys(t, got, key.PublicKeys())
}

func TestPublicKeysJWKSRoundTrip(t *testing.T) {
	t.Parallel()
	a, b, c := testenv.Key(t), testenv.Key(t), testenv.Key(t)
	keys := auth.PublicKeys{}
	for _, k := range []auth.SigningKey{a, b, c} {
		keys[k.Kid] = k.Key.Public().(ed25519.PublicKey)
	}
	set := keys.JWKS()
	if len(set.Keys) != 3 {
		t.Fatalf("JWKS has %d keys, want 3", len(set.Keys))
	}
	for _, j := range set.Keys {
		if j.D != "" {
			t.Errorf("published key %q carries d", j.Kid)
		}
	}
	got, err := auth.ParsePublicKeys(mustJSON(t, set))
	if err != nil {
		t.Fatal(err)
	}
	assertSamePublicKeys(t, got, keys)
	if empty := (auth.PublicKeys{}).JWKS(); empty.Keys == nil || mustJSON(t, empty) != `{"keys":[]}` {
		t.Errorf("empty JWKS = %s, want {\"keys\":[]}", mustJSON(t, empty))
	}
}

func TestParsePublicKeysRejects(t *testing.T) {
	t.Parallel()
	key, other := testenv.Key(t), testenv.Key(t)
	good := key.Public()
	with := func(edit func(*auth.JWK)) auth.JWK {
		j := good
		edit(&j)
		return j
	}
	set := func(keys ...auth.JWK) string { return mustJSON(t, auth.JWKS{Keys: keys}) }
	dup := other.Public()
	dup.Kid = good.Kid

	tests := []struct {
		name, src, wantErr string
	}{
		{"empty source", "", "no key configured"},
		{"blank source", "  \n", "no key configured"},
		{"missing file", filepath.Join(t.TempDir(), "nope.json"), "read key file"},
		{"not JSON", "{nope", "parse jwks"},
		{"no keys field", "{}", "no keys"},
		{"empty key list", `{"keys":[]}`, "no keys"},
		{"wrong kty", set(with(func(j *auth.JWK) { j.Kty = "EC" })), "want kty OKP"},
		{"RSA kty", set(with(func(j *auth.JWK) { j.Kty = "RSA" })), "want kty OKP"},
		{"wrong crv", set(with(func(j *auth.JWK) { j.Crv = "X25519" })), "crv Ed25519"},
		{"no crv", set(with(func(j *auth.JWK) { j.Crv = "" })), "crv Ed25519"},
		{"missing kid", set(with(func(j *auth.JWK) { j.Kid = "" })), "kid is required"},
		{"x too short", set(with(func(j *auth.JWK) { j.X = base64.RawURLEncoding.EncodeToString(make([]byte, 31)) })), "32-byte"},
		{"x too long", set(with(func(j *auth.JWK) { j.X = base64.RawURLEncoding.EncodeToString(make([]byte, 33)) })), "32-byte"},
		{"x empty", set(with(func(j *auth.JWK) { j.X = "" })), "32-byte"},
		{"x padded std base64", set(with(func(j *auth.JWK) {
			x, _ := base64.RawURLEncoding.DecodeString(good.X)
			j.X = base64.StdEncoding.EncodeToString(x)
		})), "32-byte"},
		{"duplicate kid", set(good, dup), "duplicate kid"},
		{"one bad key among good ones", set(other.Public(), with(func(j *auth.JWK) { j.Crv = "P-256" })), "crv Ed25519"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			keys, err := auth.ParsePublicKeys(tt.src)
			if err == nil {
				t.Fatalf("ParsePublicKeys accepted it: %v", keys)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error = %q, want it to mention %q", err, tt.wantErr)
			}
			if keys != nil {
				t.Errorf("keys = %v alongside the error", keys)
			}
		})
	}
}

func TestParseSigningKeyRejects(t *testing.T) {
	t.Parallel()
	key, other := testenv.Key(t), testenv.Key(t)
	good := key.Private()
	with := func(edit func(*auth.JWK)) string {
		j := good
		edit(&j)
		return mustJSON(t, j)
	}
	tests := []struct {
		name, src, wantErr string
	}{
		{"empty source", "", "no key configured"},
		{"missing file", filepath.Join(t.TempDir(), "nope.json"), "read key file"},
		{"not JSON", "{nope", "parse signing key"},
		{"a JWKS instead of a JWK", mustJSON(t, auth.JWKS{Keys: []auth.JWK{good}}), "want kty OKP"},
		{"wrong kty", with(func(j *auth.JWK) { j.Kty = "oct" }), "want kty OKP"},
		{"wrong crv", with(func(j *auth.JWK) { j.Crv = "Ed448" }), "crv Ed25519"},
		{"missing kid", with(func(j *auth.JWK) { j.Kid = "" }), "kid is required"},
		{"bad x length", with(func(j *auth.JWK) { j.X = j.X[:20] }), "32-byte"},
		{"public key only", with(func(j *auth.JWK) { j.D = "" }), "d must be"},
		{"bad d length", with(func(j *auth.JWK) { j.D = base64.RawURLEncoding.EncodeToString(make([]byte, 64)) }), "d must be"},
		{"d not base64url", with(func(j *auth.JWK) { j.D = "!!" + j.D[2:] }), "d must be"},
		{"x not matching d", with(func(j *auth.JWK) { j.X = other.Public().X }), "x does not match d"},
		{"d of another key", with(func(j *auth.JWK) { j.D = other.Private().D }), "x does not match d"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := auth.ParseSigningKey(tt.src)
			if err == nil {
				t.Fatalf("ParseSigningKey accepted it: kid %q", got.Kid)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error = %q, want it to mention %q", err, tt.wantErr)
			}
			if got.Key != nil || got.Kid != "" {
				t.Errorf("key %q returned alongside the error", got.Kid)
			}
		})
	}
}
