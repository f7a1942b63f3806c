package users

import (
	"context"
	"errors"
	"math"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"

	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/config"
	"github.com/8949market/market/shared/fault"
	"github.com/8949market/market/shared/ratelimit"
)

// Credentials is a login request. Missing and empty fields are refused alike.
type Credentials struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

// RefreshRequest is a reissue request: the refresh token with the access token it came with.
type RefreshRequest struct {
	AccessToken  string `json:"accessToken"`
	RefreshToken string `json:"refreshToken"`
}

// LoginLimits bound login attempts, counted in Redis so every instance shares them.
type LoginLimits struct {
	MaxPerClient int64         // attempts per client address per window
	MaxFailures  int64         // failures per username per window
	Window       time.Duration // the fixed window both count in
}

// SignIn is the session use cases of the auth functions: login, reissue and logout. It
// holds the security rules so they are tested without HTTP: rate limits per account and
// per client address, a bcrypt comparison for unknown users too so timing does not tell
// which exist, the binding of a refresh token to its access token's session and to the
// account's token version, and spent refresh tokens ending their session.
type SignIn struct {
	store    *Store
	pw       *Passwords
	limiter  *ratelimit.Limiter
	limits   LoginLimits
	sessions *auth.Sessions
	verifier *auth.Verifier
	deny     *auth.Denylist
	tokens   Tokens
}

// NewSignIn returns the use cases on db and rdb, signing with signer (nil for a function
// that only logs out) and checking tokens with verifier and deny, as cfg says.
func NewSignIn(db *pgxpool.Pool, rdb *redis.Client, signer *auth.Signer, verifier *auth.Verifier, deny *auth.Denylist, cfg config.Config) *SignIn {
	sessions := auth.NewSessions(rdb, cfg.RefreshTokenTTL)
	return &SignIn{
		store:    NewStore(db, cfg.AccessTokenTTL),
		pw:       MustPasswords(cfg.BcryptCost),
		limiter:  ratelimit.New(rdb),
		limits:   LoginLimits{MaxPerClient: cfg.LoginMaxPerClient, MaxFailures: cfg.LoginMaxFailures, Window: cfg.LoginWindow},
		sessions: sessions,
		verifier: verifier,
		deny:     deny,
		tokens:   Tokens{Signer: signer, Sessions: sessions, AccessTTL: cfg.AccessTokenTTL},
	}
}

// Login exchanges a username (any case) and password, from a client at address client,
// for an access token and the first refresh token of a new session. An unknown username
// and a wrong password get the same answer (ErrBadCredentials) after the same work.
func (s *SignIn) Login(ctx context.Context, username, password, client string) (Pair, error) {
	if strings.TrimSpace(username) == "" {
		return Pair{}, ErrUsernameRequired.OnField("username")
	}
	if password == "" {
		return Pair{}, ErrPasswordRequired.OnField("password")
	}
	username = strings.ToLower(strings.TrimSpace(username))
	failures := "login:fail:" + username
	byClient, err := s.limiter.Hit(ctx, "login:addr:"+client, s.limits.MaxPerClient, s.limits.Window)
	if err != nil {
		return Pair{}, fault.ErrUnavailable.Wrap(err)
	}
	if !byClient.Allowed {
		return Pair{}, tooMany(byClient)
	}
	byUser, err := s.limiter.Peek(ctx, failures, s.limits.MaxFailures)
	if err != nil {
		return Pair{}, fault.ErrUnavailable.Wrap(err)
	}
	if !byUser.Allowed {
		return Pair{}, tooMany(byUser)
	}
	u, err := s.store.ByUsername(ctx, username)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return Pair{}, err
	}
	// u.PasswordHash is empty for an unknown user: Check then compares with a dummy hash.
	ok, err := s.pw.Check(u.PasswordHash, password)
	if err != nil {
		return Pair{}, err
	}
	if !ok {
		if _, err := s.limiter.Hit(ctx, failures, s.limits.MaxFailures, s.limits.Window); err != nil {
			return Pair{}, fault.ErrUnavailable.Wrap(err)
		}
		return Pair{}, ErrBadCredentials
	}
	if err := s.limiter.Reset(ctx, failures); err != nil {
		return Pair{}, fault.ErrUnavailable.Wrap(err)
	}
	pair, err := s.tokens.Login(ctx, u)
	if err != nil {
		return Pair{}, fault.ErrUnavailable.Wrap(err)
	}
	return pair, nil
}

func tooMany(res ratelimit.Result) error {
	f := fault.ErrRateLimited.WithMessage("too many login attempts; try again later")
	f.RetryAfter = int(math.Ceil(res.RetryAfter.Seconds()))
	return f
}

// Reissue exchanges a refresh token, with the access token it came with (expired or not),
// for a new pair. The refresh token rotates: the one presented is spent, and presenting a
// spent one again revokes its whole session (auth.Sessions). The old access token is
// revoked. A session ends when its user is deleted or its password or role changes.
func (s *SignIn) Reissue(ctx context.Context, access, refresh string) (Pair, error) {
	access, refresh = strings.TrimSpace(access), strings.TrimSpace(refresh)
	if access == "" {
		return Pair{}, ErrAccessTokenRequired.OnField("accessToken")
	}
	if refresh == "" {
		return Pair{}, ErrRefreshTokenRequired.OnField("refreshToken")
	}
	// A bad access token is refused before the refresh token is looked at, so it does not
	// spend it.
	old, err := s.verifier.VerifySignature(access)
	if err != nil {
		return Pair{}, err
	}
	sess, next, err := s.sessions.Rotate(ctx, refresh)
	if err != nil {
		return Pair{}, err
	}
	pair, err := s.reissue(ctx, old, sess, next)
	if err != nil {
		// The presented refresh token is spent: any refusal from here on ends the session.
		if endErr := s.sessions.End(context.WithoutCancel(ctx), sess.ID); endErr != nil {
			return Pair{}, fault.ErrUnavailable.Wrap(endErr)
		}
		return Pair{}, err
	}
	return pair, nil
}

func (s *SignIn) reissue(ctx context.Context, old auth.Identity, sess auth.Session, next string) (Pair, error) {
	if old.UserID != sess.UserID || old.SessionID != sess.ID {
		return Pair{}, ErrForeignSession
	}
	u, err := s.store.Get(ctx, sess.UserID)
	if errors.Is(err, ErrNotFound) {
		return Pair{}, ErrAccountGone
	}
	if err != nil {
		return Pair{}, err
	}
	if u.TokenVersion != sess.Version {
		return Pair{}, ErrSessionEnded
	}
	if err := s.deny.DenyToken(ctx, old.TokenID, old.ExpiresAt); err != nil {
		return Pair{}, fault.ErrUnavailable.Wrap(err)
	}
	return s.tokens.Reissue(u, sess.ID, next)
}

// Logout ends the caller's session (its refresh tokens stop working) and revokes the
// access token it was called with until that token expires.
func (s *SignIn) Logout(ctx context.Context, caller auth.Identity) error {
	if err := s.sessions.End(ctx, caller.SessionID); err != nil {
		return fault.ErrUnavailable.Wrap(err)
	}
	if err := s.deny.DenyToken(ctx, caller.TokenID, caller.ExpiresAt); err != nil {
		return fault.ErrUnavailable.Wrap(err)
	}
	return nil
}
