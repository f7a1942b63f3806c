package auth

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
)

// JWK is one Ed25519 key in JSON Web Key form (RFC 8037: kty OKP, crv Ed25519). D is set
// only on a private key.
type JWK struct {
	Kty string `json:"kty"`
	Crv string `json:"crv"`
	Kid string `json:"kid"`
	Alg string `json:"alg,omitempty"`
	Use string `json:"use,omitempty"`
	X   string `json:"x"`
	D   string `json:"d,omitempty"`
}

// JWKS is a JSON Web Key Set.
type JWKS struct {
	Keys []JWK `json:"keys"`
}

// PublicKeys maps a key id to the key that verifies tokens carrying that kid.
type PublicKeys map[string]ed25519.PublicKey

// SigningKey is the private key the auth functions sign with.
type SigningKey struct {
	Kid string
	Key ed25519.PrivateKey
}

// GenerateSigningKey makes a fresh Ed25519 key with the given id.
func GenerateSigningKey(kid string) (SigningKey, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return SigningKey{}, fmt.Errorf("generate ed25519 key: %w", err)
	}
	return SigningKey{Kid: kid, Key: priv}, nil
}

// Public returns the key's public half as a JWK.
func (k SigningKey) Public() JWK {
	pub := k.Key.Public().(ed25519.PublicKey)
	return JWK{Kty: "OKP", Crv: "Ed25519", Kid: k.Kid, Alg: "EdDSA", Use: "sig",
		X: base64.RawURLEncoding.EncodeToString(pub)}
}

// PublicKeys returns a key set holding only this key's public half.
func (k SigningKey) PublicKeys() PublicKeys {
	return PublicKeys{k.Kid: k.Key.Public().(ed25519.PublicKey)}
}

// Private returns the key as a private JWK.
func (k SigningKey) Private() JWK {
	j := k.Public()
	j.D = base64.RawURLEncoding.EncodeToString(k.Key.Seed())
	return j
}

// JWKS returns the public keys as a key set, in no particular order.
func (p PublicKeys) JWKS() JWKS {
	set := JWKS{Keys: make([]JWK, 0, len(p))}
	for kid, key := range p {
		set.Keys = append(set.Keys, JWK{Kty: "OKP", Crv: "Ed25519", Kid: kid, Alg: "EdDSA", Use: "sig",
			X: base64.RawURLEncoding.EncodeToString(key)})
	}
	return set
}

// ParsePublicKeys reads a JWKS document, given inline (starting with "{") or as a file
// path. Private parts, if present, are ignored.
func ParsePublicKeys(src string) (PublicKeys, error) {
	raw, err := inlineOrFile(src)
	if err != nil {
		return nil, err
	}
	var set JWKS
	if err := json.Unmarshal(raw, &set); err != nil {
		return nil, fmt.Errorf("parse jwks: %w", err)
	}
	if len(set.Keys) == 0 {
		return nil, errors.New("parse jwks: no keys")
	}
	keys := make(PublicKeys, len(set.Keys))
	for _, j := range set.Keys {
		pub, err := j.publicKey()
		if err != nil {
			return nil, err
		}
		if _, dup := keys[j.Kid]; dup {
			return nil, fmt.Errorf("parse jwks: duplicate kid %q", j.Kid)
		}
		keys[j.Kid] = pub
	}
	return keys, nil
}

// ParseSigningKey reads a private JWK, given inline or as a file path.
func ParseSigningKey(src string) (SigningKey, error) {
	raw, err := inlineOrFile(src)
	if err != nil {
		return SigningKey{}, err
	}
	var j JWK
	if err := json.Unmarshal(raw, &j); err != nil {
		return SigningKey{}, fmt.Errorf("parse signing key: %w", err)
	}
	pub, err := j.publicKey()
	if err != nil {
		return SigningKey{}, err
	}
	seed, err := base64.RawURLEncoding.DecodeString(j.D)
	if err != nil || len(seed) != ed25519.SeedSize {
		return SigningKey{}, fmt.Errorf("parse signing key %q: d must be a 32-byte base64url seed", j.Kid)
	}
	priv := ed25519.NewKeyFromSeed(seed)
	if !pub.Equal(priv.Public()) {
		return SigningKey{}, fmt.Errorf("parse signing key %q: x does not match d", j.Kid)
	}
	return SigningKey{Kid: j.Kid, Key: priv}, nil
}

func (j JWK) publicKey() (ed25519.PublicKey, error) {
	if j.Kty != "OKP" || j.Crv != "Ed25519" {
		return nil, fmt.Errorf("jwk %q: want kty OKP and crv Ed25519, got %s/%s", j.Kid, j.Kty, j.Crv)
	}
	if j.Kid == "" {
		return nil, errors.New("jwk: kid is required")
	}
	x, err := base64.RawURLEncoding.DecodeString(j.X)
	if err != nil || len(x) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("jwk %q: x must be a 32-byte base64url key", j.Kid)
	}
	return ed25519.PublicKey(x), nil
}

func inlineOrFile(src string) ([]byte, error) {
	src = strings.TrimSpace(src)
	if src == "" {
		return nil, errors.New("no key configured")
	}
	if strings.HasPrefix(src, "{") {
		return []byte(src), nil
	}
	raw, err := os.ReadFile(src)
	if err != nil {
		return nil, fmt.Errorf("read key file: %w", err)
	}
	return raw, nil
}
