package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"github.com/8949market/market/shared/api"
	"github.com/8949market/market/shared/fault"
)

// The faults a caller can get from token verification.
var (
	ErrTokenMissing = fault.ErrUnauthenticated.WithMessage("access token required")
	ErrTokenInvalid = fault.ErrUnauthenticated.WithMessage("access token invalid or expired")
	ErrTokenRevoked = fault.ErrUnauthenticated.WithMessage("access token revoked")
)

// Leeway is the clock skew allowed on exp and iat; a denylisted token must stay denied
// for as long as the verifier would still accept it.
const Leeway = 5 * time.Second

// DenyChecker says whether a token is revoked: *Revocations from memory (what
// platform.New wires), or *Denylist with a Redis round trip.
type DenyChecker interface {
	Denied(ctx context.Context, jti string, userID uuid.UUID, ver int64) (bool, error)
}

// Verifier checks access tokens against the public keys and the denylist.
type Verifier struct {
	keys   PublicKeys
	deny   DenyChecker
	parser *jwt.Parser
	// lenient checks signature and algorithm only, for reissue, which accepts an expired
	// access token to revoke it.
	lenient *jwt.Parser
	// verified remembers tokens whose signature and claims were checked, so a token used
	// again (the usual case: a client sends one token for its whole lifetime) costs only
	// the denylist lookup. Revocation is never cached.
	verified *verifiedCache
}

// NewVerifier returns a verifier trusting keys and consulting deny.
func NewVerifier(keys PublicKeys, deny DenyChecker) *Verifier {
	return &Verifier{
		keys: keys,
		deny: deny,
		parser: jwt.NewParser(
			// Only EdDSA: refuses alg none and HS256 signed with a public key.
			jwt.WithValidMethods([]string{jwt.SigningMethodEdDSA.Alg()}),
			jwt.WithExpirationRequired(),
			jwt.WithIssuedAt(),
			jwt.WithLeeway(Leeway),
		),
		lenient: jwt.NewParser(
			jwt.WithValidMethods([]string{jwt.SigningMethodEdDSA.Alg()}),
			jwt.WithoutClaimsValidation(),
		),
		verified: newVerifiedCache(verifiedCacheSize),
	}
}

// Keys returns the public keys the verifier trusts.
func (v *Verifier) Keys() PublicKeys { return v.keys }

// Verify returns the identity in a valid, unrevoked access token.
func (v *Verifier) Verify(ctx context.Context, raw string) (Identity, error) {
	id, ok := v.verified.get(raw, time.Now())
	if !ok {
		var err error
		if id, err = v.parse(v.parser, raw); err != nil {
			return Identity{}, err
		}
		v.verified.put(raw, id)
	}
	denied, err := v.deny.Denied(ctx, id.TokenID, id.UserID, id.Version)
	if err != nil {
		// Fail closed, but as "try again" rather than "you are logged out".
		return Identity{}, fault.ErrUnavailable.Wrap(err)
	}
	if denied {
		return Identity{}, ErrTokenRevoked
	}
	return id, nil
}

// VerifySignature returns the identity in an access token signed by a trusted key,
// whether or not it has expired or been revoked. Only token reissue uses it: the caller
// proves who it was in order to have that token revoked.
func (v *Verifier) VerifySignature(raw string) (Identity, error) {
	return v.parse(v.lenient, raw)
}

func (v *Verifier) parse(p *jwt.Parser, raw string) (Identity, error) {
	var claims AccessClaims
	if _, err := p.ParseWithClaims(raw, &claims, v.key); err != nil {
		return Identity{}, ErrTokenInvalid.Wrap(err)
	}
	if claims.TokenType != TokenTypeAccess {
		return Identity{}, ErrTokenInvalid.Wrap(fmt.Errorf("token_type %q", claims.TokenType))
	}
	userID, err := uuid.Parse(claims.Subject)
	if err != nil || claims.ID == "" || claims.IssuedAt == nil || claims.ExpiresAt == nil || !claims.Role.Valid() {
		return Identity{}, ErrTokenInvalid.Wrap(errors.New("missing or malformed sub, jti, iat, exp or role"))
	}
	return Identity{
		UserID:    userID,
		Username:  claims.Username,
		Nickname:  claims.Nickname,
		Role:      claims.Role,
		TokenID:   claims.ID,
		IssuedAt:  claims.IssuedAt.Time,
		ExpiresAt: claims.ExpiresAt.Time,
		SessionID: claims.SessionID,
		Version:   claims.Version,
	}, nil
}

func (v *Verifier) key(t *jwt.Token) (any, error) {
	kid, _ := t.Header["kid"].(string)
	key, ok := v.keys[kid]
	if !ok {
		return nil, fmt.Errorf("unknown kid %q", kid)
	}
	return key, nil
}

// Require lets a request through only with a valid access token in the Authorization
// header, and puts the caller's identity in its context. Identity headers sent by the
// client are never read.
func (v *Verifier) Require(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, ok := BearerToken(r)
		if !ok {
			api.Fail(w, r, ErrTokenMissing)
			return
		}
		id, err := v.Verify(r.Context(), raw)
		if err != nil {
			api.Fail(w, r, err)
			return
		}
		next.ServeHTTP(w, r.WithContext(WithIdentity(r.Context(), id)))
	})
}

// Optional lets a request through with or without an access token, but a token sent must
// be valid: its caller's identity goes in the context as with Require. For a public route
// whose answer depends on who asks (signup: only a MASTER creates an administrator).
func (v *Verifier) Optional(next http.Handler) http.Handler {
	required := v.Require(next)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, ok := BearerToken(r); !ok {
			next.ServeHTTP(w, r)
			return
		}
		required.ServeHTTP(w, r)
	})
}

// BearerToken returns the token of an "Authorization: Bearer <token>" header.
func BearerToken(r *http.Request) (string, bool) {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}

// verifiedCacheSize bounds the verified-token cache: about 1 KB per entry.
const verifiedCacheSize = 10_000

// verifiedCache maps a raw token that passed verification to its identity. An entry is
// used only while the token is within its lifetime (exp plus leeway), so the cache never
// accepts what the parser would refuse. When full, it starts over: simple, and a token
// evicted early only costs one more signature check.
type verifiedCache struct {
	mu      sync.Mutex
	max     int
	entries map[string]Identity
}

func newVerifiedCache(max int) *verifiedCache {
	return &verifiedCache{max: max, entries: make(map[string]Identity)}
}

func (c *verifiedCache) get(raw string, now time.Time) (Identity, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	id, ok := c.entries[raw]
	if !ok {
		return Identity{}, false
	}
	if now.After(id.ExpiresAt.Add(Leeway)) {
		delete(c.entries, raw)
		return Identity{}, false
	}
	return id, true
}

func (c *verifiedCache) put(raw string, id Identity) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= c.max {
		clear(c.entries)
	}
	c.entries[raw] = id
}
