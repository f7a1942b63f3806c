package auth

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// TokenTypeAccess is the token_type claim of an access token; refresh tokens carry another
// value, so one can never stand in for the other.
const TokenTypeAccess = "access"

// AccessClaims are the claims of an access token.
type AccessClaims struct {
	jwt.RegisteredClaims
	TokenType string `json:"token_type"`
	Username  string `json:"username"`
	Role      Role   `json:"role"`
	Nickname  string `json:"nickname"`
	SessionID string `json:"sid,omitempty"`
	Version   int64  `json:"ver"`
}

// Signer signs tokens with one private key, naming it in the kid header.
type Signer struct {
	key SigningKey
	now func() time.Time
}

// NewSigner returns a signer for key.
func NewSigner(key SigningKey) *Signer {
	return &Signer{key: key, now: time.Now}
}

// Kid is the id of the signing key.
func (s *Signer) Kid() string { return s.key.Kid }

// Sign signs arbitrary claims with EdDSA and the key's kid.
func (s *Signer) Sign(claims jwt.Claims) (string, error) {
	t := jwt.NewWithClaims(jwt.SigningMethodEdDSA, claims)
	t.Header["kid"] = s.key.Kid
	signed, err := t.SignedString(s.key.Key)
	if err != nil {
		return "", fmt.Errorf("sign token: %w", err)
	}
	return signed, nil
}

// Access issues an access token for who, valid for ttl. Who's TokenID, IssuedAt and
// ExpiresAt are ignored; the returned identity has them set.
func (s *Signer) Access(who Identity, ttl time.Duration) (string, Identity, error) {
	now := s.now().UTC().Truncate(time.Second)
	who.TokenID = NewTokenID()
	who.IssuedAt = now
	who.ExpiresAt = now.Add(ttl)
	token, err := s.Sign(AccessClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Subject:   who.UserID.String(),
			ID:        who.TokenID,
			IssuedAt:  jwt.NewNumericDate(who.IssuedAt),
			ExpiresAt: jwt.NewNumericDate(who.ExpiresAt),
		},
		TokenType: TokenTypeAccess,
		Username:  who.Username,
		Role:      who.Role,
		Nickname:  who.Nickname,
		SessionID: who.SessionID,
		Version:   who.Version,
	})
	if err != nil {
		return "", Identity{}, err
	}
	return token, who, nil
}

// NewTokenID returns a random token id (128 bits, hex).
func NewTokenID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // never fails on supported platforms
	return hex.EncodeToString(b)
}
