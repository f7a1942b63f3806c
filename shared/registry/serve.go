package registry

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"slices"
	"strings"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	"github.com/cloudevents/sdk-go/v2/binding"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"
	"github.com/google/uuid"

	"github.com/8949market/market/shared/api"
	"github.com/8949market/market/shared/cors"
	"github.com/8949market/market/shared/fault"
	"github.com/8949market/market/shared/objectevent"
	"github.com/8949market/market/shared/platform"
)

// Handler builds the function as it is served everywhere: through the dev router, behind
// API Gateway, or alone at "/" of its Cloud Run service. An HTTP function checks the
// method, reads its path parameters from the request path by its own pattern (so
// r.PathValue works whatever router, if any, sent the request) and, unless public,
// requires an access token; behind API Gateway (GATEWAY_INVOKER) it first requires the
// gateway's own token. Before all of these it answers a browser's CORS preflight, which
// carries no token, for the origins of CORS_ALLOWED_ORIGINS (shared/cors), and marks its
// responses, errors included, for them. Event and scheduled functions serve only callers
// kit.Push verifies, in every mode, and no browser.
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
		return api.Instrument(f.Name, cors.Handler(kit.Config.CORSAllowedOrigins, h))
	case KindScheduled:
		return api.Instrument(f.Name, kit.Push.Require(postOnly(f.newHTTP(kit))))
	case KindEvent:
		return eventTrace(api.Instrument(f.Name, kit.Push.Require(postOnly(cloudEventHandler(f.newEvent(kit))))))
	default:
		panic(fmt.Sprintf("registry: function %s has unknown kind %q", f.Name, f.Kind))
	}
}

// Internal says whether the function is called by the platform (a delivery or a
// schedule) rather than by clients.
func (f Function) Internal() bool { return f.Kind == KindEvent || f.Kind == KindScheduled }

// Servable reports why kit cannot serve fns, so that a binary refuses to start instead of
// serving them badly: an internal function with no way to verify its callers, or a
// function that issues tokens without the signing key, or one using buckets it cannot
// open.
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
		if len(f.Buckets) > 0 {
			if _, _, err := kit.Buckets(); err != nil {
				errs = append(errs, fmt.Errorf("function %s uses the buckets: %w", f.Name, err))
			}
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
			// Decoded from the path, so %00 and %FF arrive as they would in a body.
			if err := api.CheckText(name, values[i]); err != nil {
				api.Fail(w, r, err)
				return
			}
			r.SetPathValue(name, values[i])
		}
		next.ServeHTTP(w, r)
	})
}

// eventTrace makes a delivery continue its event's trace: the event's traceparent (the
// ce-traceparent header of a binary-mode CloudEvent, as Pub/Sub push writes the message's
// attributes) wins over the one the delivery's own HTTP hop carries (Google's front end
// starts one per request).
func eventTrace(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if tp := r.Header.Get("ce-traceparent"); tp != "" {
			r.Header.Set("traceparent", tp)
			r.Header.Del("tracestate")
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
// bridge and Pub/Sub push deliver it, or a Cloud Storage notification pushed by Pub/Sub
// (storageNotice), and answers 2xx only when fn succeeded. A refusal
// has the error body of a REST error: 400 C017 for a delivery that is not an event of the
// platform (not a CloudEvent, an id that is not a UUID, data that is not JSON or not the
// event's shape), else fn's error as api.Fail answers it (503 C014 while the database is
// out of reach, 500 C006 for a bug). None is 2xx, so every one is retried and, once the
// subscription's or the bridge's attempts are spent, dead-lettered with its body for the
// reason: Pub/Sub push cannot dead-letter at once, and acknowledging a malformed event
// would drop it where nobody looks.
func cloudEventHandler(fn EventHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e, err := storageNotice(r)
		if e == nil && err == nil {
			e, err = binding.ToEvent(r.Context(), cehttp.NewMessageFromHttpRequest(r))
		}
		if err != nil {
			api.Fail(w, r, fault.ErrMalformedEvent.WithMessage("delivery is not a CloudEvent: %v", err).Wrap(err))
			return
		}
		if err := wellFormed(e); err != nil {
			api.Fail(w, r, err)
			return
		}
		if err := fn(r.Context(), *e); err != nil {
			api.Fail(w, r, eventFault(e, err))
			return
		}
		w.WriteHeader(http.StatusOK)
	})
}

// storageNotice reads a Cloud Storage notification pushed by Pub/Sub without wrapper (its
// attributes as headers, the object as the body) as the CloudEvent it stands for
// (shared/objectevent); nil and no error when the delivery is not one, its body left to
// read.
func storageNotice(r *http.Request) (*cloudevents.Event, error) {
	if r.Header.Get("ce-specversion") != "" || r.Header.Get("payloadFormat") == "" {
		return nil, nil
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, fault.ErrMalformedEvent.WithMessage("read the delivery: %v", err).Wrap(err)
	}
	e, _, err := objectevent.Event(r.Header.Get, body)
	if err != nil {
		return nil, fault.ErrMalformedEvent.WithMessage("storage notification: %v", err).Wrap(err)
	}
	return &e, nil
}

// wellFormed refuses an event no consumer of the platform can take: one the CloudEvents
// spec refuses, an id that is not a UUID (the id is the outbox row's, and the inbox key),
// an attribute with surrounding spaces (a binary-mode redelivery carries attributes as
// HTTP headers, which lose them, so the event would not come back the same), or JSON data
// that is not JSON.
func wellFormed(e *cloudevents.Event) error {
	if err := e.Validate(); err != nil {
		return fault.ErrMalformedEvent.WithMessage("not a valid CloudEvent: %v", err).Wrap(err)
	}
	attrs := map[string]string{"type": e.Type(), "source": e.Source(), "subject": e.Subject(), "datacontenttype": e.DataContentType()}
	for name, v := range e.Extensions() {
		if s, ok := v.(string); ok {
			attrs[name] = s
		}
	}
	for name, v := range attrs {
		if strings.TrimSpace(v) != v {
			return fault.ErrMalformedEvent.WithMessage("event attribute %s has surrounding spaces", name).OnField(name)
		}
	}
	if _, err := uuid.Parse(e.ID()); err != nil {
		return fault.ErrMalformedEvent.WithMessage("event id %q is not a UUID", e.ID()).OnField("id").Wrap(err)
	}
	if mt, _, _ := mime.ParseMediaType(e.DataContentType()); e.DataContentType() == "" || mt == "application/json" || strings.HasSuffix(mt, "+json") {
		if !json.Valid(e.Data()) {
			return fault.ErrMalformedEvent.WithMessage("%s data is not JSON", e.Type()).OnField("data")
		}
	}
	return nil
}

// eventFault is err, unless it says the event's data could not be decoded into what the
// consumer expects (not JSON, a type mismatch, a malformed time or UUID): that is the
// event's fault, not the consumer's, and answers 400 C017.
func eventFault(e *cloudevents.Event, err error) error {
	var (
		syntax    *json.SyntaxError
		wrongType *json.UnmarshalTypeError
		badTime   *time.ParseError
		cause     error
	)
	switch {
	case errors.As(err, &syntax):
		cause = syntax
	case errors.As(err, &wrongType):
		cause = wrongType
	case errors.As(err, &badTime):
		cause = badTime
	default:
		// encoding/json returns a field's UnmarshalText error as is, and uuid's are
		// untyped: they are recognised, at the end of the chain, by their text.
		leaf := err
		for next := errors.Unwrap(leaf); next != nil; next = errors.Unwrap(leaf) {
			leaf = next
		}
		if !uuid.IsInvalidLengthError(leaf) && !strings.HasPrefix(leaf.Error(), "invalid UUID") &&
			!strings.HasPrefix(leaf.Error(), "invalid urn prefix") && !strings.HasPrefix(leaf.Error(), "invalid bracketed UUID") {
			return err
		}
		cause = leaf
	}
	return fault.ErrMalformedEvent.WithMessage("%s data does not fit the event: %v", e.Type(), cause).OnField("data").Wrap(err)
}

// Mux routes requests by method and path: the most specific pattern wins
// (/products/my before /products/{productId}); a path that exists under another method
// answers 405 with Allow; anything else 404. Both in the error body. A CORS preflight goes
// to the most specific route of its path, whatever the method it asks for: every function
// answers preflights alike, and API Gateway is configured to route OPTIONS so. The dev
// router serves the HTTP functions with one; the deployed shape's API Gateway stand-in
// its backends.
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
		if rt.Method != r.Method && !cors.Preflight(r) {
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
