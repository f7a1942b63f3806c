package users

import (
	"context"
	"fmt"
	"time"

	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/fault"
)

// Tokens issues the token pairs of logins and reissues.
type Tokens struct {
	Signer    *auth.Signer
	Sessions  *auth.Sessions
	AccessTTL time.Duration
}

// Pair is what login and reissue answer.
type Pair struct {
	AccessToken  string `json:"accessToken"`
	RefreshToken string `json:"refreshToken"`
	TokenType    string `json:"tokenType"`
	ExpiresIn    int    `json:"expiresIn"` // seconds the access token lives
}

// Login starts a session for u and returns its first pair.
func (t Tokens) Login(ctx context.Context, u User) (Pair, error) {
	sess, refresh, err := t.Sessions.Start(ctx, u.ID, u.TokenVersion)
	if err != nil {
		return Pair{}, err
	}
	return t.pair(u, sess.ID, refresh)
}

// Reissue returns the pair that follows refresh for u, whose session is sess.
func (t Tokens) Reissue(u User, sessionID, refresh string) (Pair, error) {
	return t.pair(u, sessionID, refresh)
}

func (t Tokens) pair(u User, sessionID, refresh string) (Pair, error) {
	access, _, err := t.Signer.Access(auth.Identity{
		UserID:    u.ID,
		Username:  u.Username,
		Nickname:  u.Nickname,
		Role:      u.Role,
		SessionID: sessionID,
		Version:   u.TokenVersion,
	}, t.AccessTTL)
	if err != nil {
		return Pair{}, fmt.Errorf("issue access token: %w", err)
	}
	return Pair{AccessToken: access, RefreshToken: refresh, TokenType: "Bearer", ExpiresIn: int(t.AccessTTL.Seconds())}, nil
}

// RevokeTokens voids the access tokens of u older than its current version, after a
// change that raised it (u.TokensRevoked). Its sessions need nothing more: a reissue
// compares the session's version with the account's. The change and its durable
// revocation record are already saved when this runs (Store.Update), so a failure says
// only that Redis was not told: a process that checks PostgreSQL refuses the old tokens,
// one whose mirror is in step with Redis may accept them for their short lifetime.
func RevokeTokens(ctx context.Context, deny *auth.Denylist, u User, accessTTL time.Duration) error {
	if !u.TokensRevoked() {
		return nil
	}
	if err := deny.RevokeUser(ctx, u.ID, u.TokenVersion, accessTTL); err != nil {
		return fault.ErrUnavailable.WithMessage("the change is saved, but existing sign-ins could not be ended now; they expire within %s", accessTTL).Wrap(err)
	}
	return nil
}
