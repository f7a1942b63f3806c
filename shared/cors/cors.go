// Package cors lets browser pages on the origins the configuration names
// (CORS_ALLOWED_ORIGINS) call the platform's public HTTP surface: the REST functions and
// the chat server's REST routes. The rules are github.com/rs/cors's; this package fixes
// the platform's policy (its methods, the headers clients send and read, bearer tokens
// and no cookies) and how a refused preflight answers.
package cors

import (
	"net/http"
	"slices"

	rscors "github.com/rs/cors"

	"github.com/8949market/market/shared/api"
	"github.com/8949market/market/shared/fault"
)

// MaxAge is how long a browser may reuse a preflight's answer, in seconds. Chromium caps
// it at two hours; an origin removed from the list stays usable for at most this long in
// a browser that already asked.
const MaxAge = 3600

var (
	// methods are those the registry accepts for a route.
	methods = []string{http.MethodGet, http.MethodPost, http.MethodPatch, http.MethodDelete, http.MethodPut}
	// allowedHeaders are the request headers the platform reads from clients beyond the
	// CORS-safelisted ones: the bearer token, a JSON body, and the W3C trace context and
	// baggage that the telemetry propagator continues.
	allowedHeaders = []string{"Authorization", "Content-Type", "Traceparent", "Tracestate", "Baggage"}
	// exposedHeaders are the response headers a page may read beyond the safelisted ones:
	// the trace id to quote in a support request, and when to retry after 429 or 503.
	exposedHeaders = []string{"X-Trace-Id", "Retry-After"}
)

// Handler serves next with CORS for origins (exact, as the Origin header carries them).
// A preflight is answered here, before next: it carries no token, and next's method,
// gateway and token checks would refuse it. Allowed, it answers 204 with the
// Access-Control-Allow-* headers; refused (an origin, method or header not allowed), 403
// with an error body and none of them, so the browser blocks the call. Any other request
// goes to next, and its response, errors included, carries Access-Control-Allow-Origin
// when the origin is allowed. With no origins, no cross-origin page is allowed.
func Handler(origins []string, next http.Handler) http.Handler {
	allowed := slices.Clone(origins)
	c := rscors.New(rscors.Options{
		// A function, not AllowedOrigins: rs/cors reads an empty list as "every origin".
		AllowOriginFunc: func(origin string) bool { return slices.Contains(allowed, origin) },
		AllowedMethods:  methods,
		AllowedHeaders:  allowedHeaders,
		ExposedHeaders:  exposedHeaders,
		MaxAge:          MaxAge,
		// Tokens travel in Authorization, never in cookies: no credentials mode.
		AllowCredentials: false,
		// rs/cors writes the preflight's headers, then lets the handler below choose
		// the status, so a refusal can say why.
		OptionsPassthrough: true,
	})
	return c.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !Preflight(r) {
			next.ServeHTTP(w, r)
			return
		}
		if w.Header().Get("Access-Control-Allow-Origin") == "" {
			api.Fail(w, r, fault.ErrForbidden.WithMessage("cross-origin request refused: origin %q, method %q or headers %q not allowed",
				r.Header.Get("Origin"), r.Header.Get("Access-Control-Request-Method"), r.Header.Get("Access-Control-Request-Headers")))
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
}

// Preflight says whether r is a CORS preflight: OPTIONS from a browser (Origin) asking
// for a method (Access-Control-Request-Method). Any other OPTIONS is an ordinary request.
func Preflight(r *http.Request) bool {
	return r.Method == http.MethodOptions && r.Header.Get("Origin") != "" && r.Header.Get("Access-Control-Request-Method") != ""
}
