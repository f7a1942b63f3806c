package chatserver

import (
	"errors"
	"net/http"
	"slices"
	"strings"

	"google.golang.org/api/idtoken"

	"github.com/8949market/market/shared/api"
	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/fault"
)

// errPushAudience is an ID token made for another service.
var errPushAudience = errors.New("push token audience is not this server")

// pushAuth guards the event functions the chat server hosts. On GCP the chat server takes
// public traffic (WebSockets cannot pass API Gateway), so Cloud Run's invoker check cannot
// protect these routes: with PUSH_AUTH=oidc each delivery must carry a Google-signed ID
// token for PUSH_AUDIENCE from one of PUSH_INVOKERS, as Pub/Sub push and the Kafka bridge
// send. Locally (PUSH_AUTH=none) the dev stack's bridge calls them directly.
func (s *Server) pushAuth(next http.Handler) http.Handler {
	cfg := s.kit.Config
	if cfg.PushAuth != "oidc" {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, ok := auth.BearerToken(r)
		if !ok {
			api.Fail(w, r, fault.ErrUnauthenticated.WithMessage("push token required"))
			return
		}
		// Pub/Sub push signs for the audience its subscription names (PUSH_AUDIENCE); the
		// Kafka bridge signs for the URL it calls. Both are this server.
		p, err := idtoken.Validate(r.Context(), token, "")
		if err == nil && p.Audience != cfg.PushAudience && p.Audience != strings.TrimSuffix(cfg.PushAudience, "/")+r.URL.Path {
			err = errPushAudience
		}
		if err != nil {
			api.Fail(w, r, fault.ErrUnauthenticated.WithMessage("push token invalid").Wrap(err))
			return
		}
		email, _ := p.Claims["email"].(string)
		verified, _ := p.Claims["email_verified"].(bool)
		if !verified || !slices.Contains(cfg.PushInvokers, email) {
			api.Fail(w, r, fault.ErrForbidden.WithMessage("push caller not allowed").Wrap(errPushDenied))
			return
		}
		next.ServeHTTP(w, r)
	})
}
