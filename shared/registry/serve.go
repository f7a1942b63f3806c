package registry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"

	cloudevents "github.com/cloudevents/sdk-go/v2"

	"github.com/8949market/market/shared/api"
	"github.com/8949market/market/shared/fault"
	"github.com/8949market/market/shared/platform"
)

// Handler builds the function as it is served everywhere: through the dev router, behind
// API Gateway, or alone at "/" of its Cloud Run service. An HTTP function checks the
// method, reads its path parameters from the request path by its own pattern (so
// r.PathValue works whatever router, if any, sent the request) and, unless public,
// requires an access token; behind API Gateway (GATEWAY_INVOKER) it first requires the
// gateway's own token. Event and scheduled functions serve only callers kit.Push verifies,
// in every mode.
func (f Function) Handler(kit *platform.Kit) http.Handler {
	switch f.Kind {
	case KindHTTP:
		var h http.Handler
		if f.Signs && kit.Signer == nil {
			slog.Error("function issues tokens but JWT_SIGNING_KEY is not set; it answers 503", "function", f.Name)
			h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				api.Fail(w, r, fault.ErrUnavailable.WithMessage("token signing is not configured"))
			})
		} else {
			h = f.newHTTP(kit)
		}
		if !f.Public {
			h = kit.Verifier.Require(h)
		}
		h = f.route(h)
		if kit.Gateway != nil {
			h = kit.Gateway.Require(h)
		}
		return api.Instrument(f.Name, h)
	case KindScheduled:
		return api.Instrument(f.Name, kit.Push.Require(postOnly(f.newHTTP(kit))))
	case KindEvent:
		return api.Instrument(f.Name, kit.Push.Require(cloudEventHandler(f.newEvent(kit))))
	default:
		panic(fmt.Sprintf("registry: function %s has unknown kind %q", f.Name, f.Kind))
	}
}

// Internal says whether the function is called by the platform (a delivery or a
// schedule) rather than by clients.
func (f Function) Internal() bool { return f.Kind == KindEvent || f.Kind == KindScheduled }

// Servable reports why kit cannot serve fns, so that a binary refuses to start instead of
// serving them badly: an internal function with no way to verify its callers, or a
// function that issues tokens without the signing key.
func Servable(kit *platform.Kit, fns ...Function) error {
	var errs []error
	for _, f := range fns {
		if f.Internal() {
			if err := kit.Push.Ready(); err != nil {
				errs = append(errs, fmt.Errorf("function %s: %w", f.Name, err))
			}
		}
		if f.Signs && kit.Signer == nil {
			errs = append(errs, fmt.Errorf("function %s issues tokens: set JWT_SIGNING_KEY", f.Name))
		}
	}
	return errors.Join(errs...)
}

func (f Function) route(next http.Handler) http.Handler {
	params := f.Pattern.Params()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		values, ok := f.Pattern.Match(r.URL.Path)
		if !ok {
			api.Fail(w, r, fault.ErrNotFound.WithMessage("no route for %s", r.URL.Path))
			return
		}
		if r.Method != f.Method {
			w.Header().Set("Allow", f.Method)
			api.Fail(w, r, fault.ErrMethodNotAllowed)
			return
		}
		for i, name := range params {
			r.SetPathValue(name, values[i])
		}
		next.ServeHTTP(w, r)
	})
}

func postOnly(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			api.Fail(w, r, fault.ErrMethodNotAllowed)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// cloudEventHandler receives a CloudEvent in binary or structured mode, as the push
// bridge and Pub/Sub push deliver it, and answers 2xx only when fn succeeded.
func cloudEventHandler(fn EventHandler) http.Handler {
	p, err := cloudevents.NewHTTP()
	if err != nil {
		panic(fmt.Sprintf("registry: cloudevents protocol: %v", err)) // only fails on bad options
	}
	h, err := cloudevents.NewHTTPReceiveHandler(context.Background(), p, func(ctx context.Context, e cloudevents.Event) error {
		return fn(ctx, e)
	})
	if err != nil {
		panic(fmt.Sprintf("registry: cloudevents handler: %v", err))
	}
	return h
}

// Mux routes requests by method and path: the most specific pattern wins
// (/products/my before /products/{productId}); a path that exists under another method
// answers 405 with Allow; anything else 404. Both in the error body. The dev router serves
// the HTTP functions with one; the deployed shape's API Gateway stand-in its backends.
type Mux struct {
	routes []Route
}

// Route is one operation: a method and path pattern, and what serves it.
type Route struct {
	Method  string
	Pattern Pattern
	Handler http.Handler
}

// NewMux builds a mux over the HTTP functions of fns.
func NewMux(kit *platform.Kit, fns []Function) *Mux {
	var routes []Route
	for _, f := range fns {
		if f.Kind == KindHTTP {
			routes = append(routes, Route{Method: f.Method, Pattern: f.Pattern, Handler: f.Handler(kit)})
		}
	}
	return NewRouteMux(routes)
}

// NewRouteMux builds a mux over routes.
func NewRouteMux(routes []Route) *Mux { return &Mux{routes: routes} }

func (m *Mux) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var best *Route
	var allow []string
	for i := range m.routes {
		rt := &m.routes[i]
		if _, ok := rt.Pattern.Match(r.URL.Path); !ok {
			continue
		}
		if rt.Method != r.Method {
			allow = append(allow, rt.Method)
			continue
		}
		if best == nil || rt.Pattern.MoreSpecific(best.Pattern) {
			best = rt
		}
	}
	switch {
	case best != nil:
		best.Handler.ServeHTTP(w, r)
	case len(allow) > 0:
		slices.Sort(allow)
		w.Header().Set("Allow", strings.Join(slices.Compact(allow), ", "))
		api.Instrument("router", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			api.Fail(w, r, fault.ErrMethodNotAllowed)
		})).ServeHTTP(w, r)
	default:
		api.Instrument("router", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			api.Fail(w, r, fault.ErrNotFound.WithMessage("no route for %s %s", r.Method, r.URL.Path))
		})).ServeHTTP(w, r)
	}
}
