// Package pushauth is the trust boundary of the platform's internal endpoints: event
// functions (POST /internal/functions/<name>, delivered by Pub/Sub push or the Kafka push
// bridge), scheduled functions (called by Cloud Scheduler) and, behind API Gateway, the
// REST functions themselves. Such a caller proves who it is in every mode; no mode serves
// an internal endpoint to an anonymous caller.
//
//   - oidc (GCP): a Google-signed ID token in Authorization, minted for this service's URL
//     (SERVICE_URL) as one of the allowed service accounts (PUSH_INVOKERS), exactly what
//     push subscriptions, Cloud Scheduler and the bridge send.
//   - token (local): the shared secret PUSH_TOKEN in the "token" query parameter of the
//     endpoint URL, the documented Pub/Sub push verification token, because the Pub/Sub
//     emulator's push carries no ID token and no header of ours, only the URL it was given.
//
// A process that serves an internal endpoint with neither configured refuses to start
// (Ready), and its endpoints refuse every call meanwhile.
package pushauth

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"google.golang.org/api/idtoken"
	"google.golang.org/api/option"

	"github.com/8949market/market/shared/api"
	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/config"
	"github.com/8949market/market/shared/fault"
)

// TokenParam is the query parameter that carries PUSH_TOKEN.
const TokenParam = "token"

// Errors a refused caller is answered with (wrapped in a fault, so 401 or 403).
var (
	ErrNotConfigured = errors.New("internal endpoints are not configured: set PUSH_AUTH (oidc on GCP, token locally)")
	ErrNoCredential  = errors.New("no delivery credential")
	ErrBadCredential = errors.New("delivery credential invalid")
	ErrNotInvoker    = errors.New("caller is not an allowed service account")
)

// Google's ID tokens name one of these issuers.
var googleIssuers = []string{"https://accounts.google.com", "accounts.google.com"}

// Verifier checks the callers of internal endpoints.
type Verifier struct {
	mode      string
	token     []byte
	oidc      *OIDC
	configErr error
}

// Option adjusts a verifier; tests use it to validate ID tokens of their own signing.
type Option func(*options)

type options struct{ googleOpts []option.ClientOption }

// WithGoogleOptions passes options to the ID token validator (an HTTP client that serves
// test certificates, say).
func WithGoogleOptions(opts ...option.ClientOption) Option {
	return func(o *options) { o.googleOpts = append(o.googleOpts, opts...) }
}

// New builds the verifier the configuration asks for. An unset PUSH_AUTH gives a verifier
// that refuses everything and whose Ready reports why.
func New(ctx context.Context, cfg config.Config, opts ...Option) (*Verifier, error) {
	switch cfg.PushAuth {
	case "":
		return &Verifier{configErr: ErrNotConfigured}, nil
	case "token":
		return &Verifier{mode: "token", token: []byte(cfg.PushToken)}, nil
	case "oidc":
		o, err := NewOIDC(ctx, cfg.ServiceURL, cfg.PushInvokers, opts...)
		if err != nil {
			return nil, err
		}
		return &Verifier{mode: "oidc", oidc: o}, nil
	default:
		return nil, fmt.Errorf("PUSH_AUTH %q: want oidc or token", cfg.PushAuth)
	}
}

// Ready says whether internal endpoints can be served: a binary that serves one calls it
// at startup and refuses to start on an error. A nil verifier is not ready.
func (v *Verifier) Ready() error {
	if v == nil {
		return ErrNotConfigured
	}
	return v.configErr
}

// Mode is "oidc", "token", or "" when unconfigured.
func (v *Verifier) Mode() string {
	if v == nil {
		return ""
	}
	return v.mode
}

// Require serves next only to a verified caller; anyone else gets 401 (no or a bad
// credential) or 403 (a valid token of a service account that may not call), and next
// never runs.
func (v *Verifier) Require(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := v.check(r); err != nil {
			api.Fail(w, r, refusal(err))
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (v *Verifier) check(r *http.Request) error {
	if err := v.Ready(); err != nil {
		return err
	}
	switch v.mode {
	case "token":
		got := r.URL.Query().Get(TokenParam)
		if got == "" {
			return ErrNoCredential
		}
		if subtle.ConstantTimeCompare([]byte(got), v.token) != 1 {
			return ErrBadCredential
		}
		return nil
	case "oidc":
		token, ok := auth.BearerToken(r)
		if !ok {
			return ErrNoCredential
		}
		return v.oidc.Check(r.Context(), token)
	default:
		return ErrNotConfigured
	}
}

// refusal maps a verification error to the answer: 403 for a caller that proved who it
// is but may not call, 503 for a process that cannot verify anyone, 401 otherwise.
func refusal(err error) error {
	switch {
	case errors.Is(err, ErrNotInvoker):
		return fault.ErrForbidden.WithMessage("caller not allowed").Wrap(err)
	case errors.Is(err, ErrNotConfigured):
		return fault.ErrUnavailable.WithMessage("internal endpoints are not configured").Wrap(err)
	default:
		return fault.ErrUnauthenticated.WithMessage("delivery credential required").Wrap(err)
	}
}

// URL returns endpoint with the local delivery credential added, as a deliverer in token
// mode calls it (the emulator's push subscriptions, the bridge, the scheduler stand-in).
func URL(endpoint, token string) (string, error) {
	u, err := url.Parse(endpoint)
	if err != nil {
		return "", fmt.Errorf("endpoint %q: %w", endpoint, err)
	}
	q := u.Query()
	q.Set(TokenParam, token)
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// Redact hides the delivery credential of an endpoint URL, for logs.
func Redact(endpoint string) string {
	u, err := url.Parse(endpoint)
	if err != nil || !u.Query().Has(TokenParam) {
		return endpoint
	}
	q := u.Query()
	q.Set(TokenParam, "redacted")
	u.RawQuery = q.Encode()
	return u.String()
}

// OIDC checks Google-signed ID tokens minted for one audience by allowed service accounts.
type OIDC struct {
	audience  string
	invokers  []string
	validator *idtoken.Validator
}

// NewOIDC validates tokens for audience (this service's URL) from the service account
// emails in invokers.
func NewOIDC(ctx context.Context, audience string, invokers []string, opts ...Option) (*OIDC, error) {
	if audience == "" || len(invokers) == 0 {
		return nil, errors.New("ID token checks need SERVICE_URL (the audience) and the allowed service accounts")
	}
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	v, err := idtoken.NewValidator(ctx, o.googleOpts...)
	if err != nil {
		return nil, fmt.Errorf("ID token validator: %w", err)
	}
	return &OIDC{audience: strings.TrimSuffix(audience, "/"), invokers: invokers, validator: v}, nil
}

// Check validates token: Google's signature, not expired, issued by Google, for this
// audience, naming a verified email among the invokers.
func (o *OIDC) Check(ctx context.Context, token string) error {
	p, err := o.validator.Validate(ctx, token, o.audience)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrBadCredential, err)
	}
	if !slices.Contains(googleIssuers, p.Issuer) {
		return fmt.Errorf("%w: issuer %q", ErrBadCredential, p.Issuer)
	}
	email, _ := p.Claims["email"].(string)
	verified, _ := p.Claims["email_verified"].(bool)
	if !verified || !slices.Contains(o.invokers, email) {
		return fmt.Errorf("%w: %q", ErrNotInvoker, email)
	}
	return nil
}

// Gateway guards the REST functions API Gateway fronts: every call must carry the
// gateway's ID token (x-google-backend with jwt_audience), so no client reaches a function
// around the gateway and the addresses the gateway appends to X-Forwarded-For can be
// trusted. The gateway moves the client's own Authorization to X-Forwarded-Authorization;
// Require puts it back for the function's access-token check.
type Gateway struct{ oidc *OIDC }

// NewGateway checks for tokens minted for audience (this service's URL) as invoker, the
// gateway's service account.
func NewGateway(ctx context.Context, audience, invoker string, opts ...Option) (*Gateway, error) {
	o, err := NewOIDC(ctx, audience, []string{invoker}, opts...)
	if err != nil {
		return nil, err
	}
	return &Gateway{oidc: o}, nil
}

// Require serves next only calls that came through the gateway.
func (g *Gateway) Require(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, ok := auth.BearerToken(r)
		if !ok {
			api.Fail(w, r, refusal(ErrNoCredential))
			return
		}
		if err := g.oidc.Check(r.Context(), token); err != nil {
			api.Fail(w, r, refusal(err))
			return
		}
		r = r.Clone(r.Context())
		if fwd := r.Header.Get("X-Forwarded-Authorization"); fwd != "" {
			r.Header.Set("Authorization", fwd)
		} else {
			r.Header.Del("Authorization")
		}
		r.Header.Del("X-Forwarded-Authorization")
		next.ServeHTTP(w, r)
	})
}
