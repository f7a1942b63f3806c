// Package auth verifies access tokens for every function: Ed25519-signed JWTs chosen by
// their kid, refused when expired, malformed, of the wrong type or revoked (a denylist in
// Redis, mirrored in memory, kept durably in the users schema so a Redis that comes back
// empty forgets nothing).
// It also signs tokens, for the auth functions (the only holders of a private key) and
// for tests.
package auth

import (
	"context"
	"time"

	"github.com/google/uuid"
)

// Role is a user's role.
type Role string

// The roles. MANAGER and MASTER are administrators; only a MASTER may make a MASTER.
const (
	RoleUser    Role = "USER"
	RoleManager Role = "MANAGER"
	RoleMaster  Role = "MASTER"
)

// Valid reports whether r is a known role.
func (r Role) Valid() bool {
	return r == RoleUser || r == RoleManager || r == RoleMaster
}

// Identity is the caller, as its verified access token says.
type Identity struct {
	UserID    uuid.UUID
	Username  string
	Nickname  string
	Role      Role
	TokenID   string // jti
	IssuedAt  time.Time
	ExpiresAt time.Time
	// SessionID is the refresh-token family the token was issued under (claim sid); logout
	// ends it. Empty for tokens minted outside a session (tests, tools).
	SessionID string
	// Version is the user's token version when the token was issued (claim ver); raising
	// the version voids every older token of the user.
	Version int64
}

// IsAdmin reports whether the caller is a MANAGER or a MASTER.
func (i Identity) IsAdmin() bool { return i.Role == RoleManager || i.Role == RoleMaster }

// Owns reports whether the caller is the user with the given id. Ownership compares ids,
// never role strings.
func (i Identity) Owns(userID uuid.UUID) bool { return i.UserID == userID }

type identityKey struct{}

// WithIdentity returns ctx carrying id.
func WithIdentity(ctx context.Context, id Identity) context.Context {
	return context.WithValue(ctx, identityKey{}, id)
}

// FromContext returns the verified caller; ok is false on a public route.
func FromContext(ctx context.Context) (Identity, bool) {
	id, ok := ctx.Value(identityKey{}).(Identity)
	return id, ok
}
