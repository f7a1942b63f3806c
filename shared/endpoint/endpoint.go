// Package endpoint is the one shape of a REST adapter: it hands a function its verified
// caller, the path's id and the decoded body, calls it, and writes the answer in the
// success envelope or the fault as the error body. Adapters are decode-call-encode and
// nothing else; the rules and the SQL stay in the domain packages, which know no HTTP.
//
//	var spec = endpoint.Spec[endpoint.None, products.View]{
//		Summary: "Cancel a deal before it opens",
//		PathID:  "productId",
//		Errors:  []*fault.Error{products.ErrNotFound, products.ErrForbidden, products.ErrStateChange},
//	}
//
//	func init() {
//		registry.HTTP("products-cancel", "PATCH /api/v1/products/{productId}/cancel", New, spec.Doc())
//	}
//
//	func New(kit *platform.Kit) http.Handler {
//		store := products.NewStore(kit.DB)
//		return endpoint.Handle(kit, spec, func(ctx context.Context, r endpoint.Request[endpoint.None]) (products.View, error) {
//			return products.Cancel(ctx, store, r.ID, r.Who, time.Now())
//		})
//	}
package endpoint

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"reflect"

	"github.com/google/uuid"

	"github.com/8949market/market/shared/api"
	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/fault"
	"github.com/8949market/market/shared/platform"
	"github.com/8949market/market/shared/registry"
)

// None is the body type of a route that takes no body; none is read.
type None struct{}

// Request is what a function is handed.
type Request[B any] struct {
	// Who is the caller, verified by the registry before the function runs; the zero
	// Identity on a Public route called without a token.
	Who auth.Identity
	// ID is the path id named by PathID, parsed as a UUID.
	ID uuid.UUID
	// Item is the path id named by ItemID, parsed as a UUID.
	Item uuid.UUID
	// Body is the JSON body, strictly decoded (api.Decode), unless B is None.
	Body B
	// Query is the URL's query.
	Query url.Values
	// Client is the caller's address, as the kit's trusted proxies report it.
	Client string
}

// Spec is a REST route's contract, declared once per function package: Doc registers
// it for the API reference, Handle serves by it, and Go checks that the function handed
// to Handle takes B and answers R.
type Spec[B, R any] struct {
	Summary     string
	Description string
	// PathID names the path wildcard the route's id is read from ("productId"); a value
	// that is not a UUID is refused with 400 C015 on that field before the body is read.
	PathID string
	// ItemID names a second path id, of an item under PathID's (a photo of a product),
	// refused alike.
	ItemID string
	// Status is the success status: 200 unless set (201 for a creation; 204 drops the
	// function's answer and sends no body).
	Status int
	// Public lets the function run without a caller, for routes registered
	// registry.Public() (signup, login, reissue). Every other route refuses a request
	// without a verified caller with 401 C002: the registry already did, so this is the
	// belt to its braces, with the same code.
	Public bool
	// Query lists the query parameters the function reads from Request.Query.
	Query []registry.Param
	// Errors are the domain's faults the function can end with; the platform's own
	// (C002, C008-C011, C015, C016, C014) follow from the fields above.
	Errors []*fault.Error
	// Example and Answer are examples for the reference: a body and an answer.
	Example *B
	Answer  *R
}

// Doc registers the contract with the function: registry.HTTP(name, route, New, spec.Doc()).
func (s Spec[B, R]) Doc() registry.Option {
	op := registry.Operation{
		Summary: s.Summary, Description: s.Description, Public: s.Public, PathID: s.PathID, ItemID: s.ItemID,
		Status: s.status(), Query: s.Query, Errors: s.Errors,
	}
	if !isNone[B]() {
		op.Body = reflect.TypeFor[B]()
		if s.Example != nil {
			op.BodyExample = *s.Example
		}
	}
	if op.Status != http.StatusNoContent {
		op.Answer = reflect.TypeFor[R]()
		if s.Answer != nil {
			op.AnswerExample = *s.Answer
		}
	}
	return registry.Describe(op)
}

func (s Spec[B, R]) status() int {
	if s.Status == 0 {
		return http.StatusOK
	}
	return s.Status
}

func isNone[B any]() bool {
	_, none := any((*B)(nil)).(*None)
	return none
}

// Handle is the adapter: caller, path id, body, then do; its answer or fault is written.
func Handle[B, R any](kit *platform.Kit, s Spec[B, R], do func(ctx context.Context, r Request[B]) (R, error)) http.Handler {
	status, noBody := s.status(), isNone[B]()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req Request[B]
		who, ok := auth.FromContext(r.Context())
		if !ok && !s.Public {
			api.Fail(w, r, fault.ErrUnauthenticated)
			return
		}
		req.Who = who
		if s.PathID != "" {
			id, err := ParseID(s.PathID, r.PathValue(s.PathID))
			if err != nil {
				api.Fail(w, r, err)
				return
			}
			req.ID = id
		}
		if s.ItemID != "" {
			id, err := ParseID(s.ItemID, r.PathValue(s.ItemID))
			if err != nil {
				api.Fail(w, r, err)
				return
			}
			req.Item = id
		}
		if !noBody {
			if err := api.Decode(w, r, kit.Config.MaxBodyBytes, &req.Body); err != nil {
				api.Fail(w, r, err)
				return
			}
		}
		req.Query = r.URL.Query()
		req.Client = api.ClientAddr(r, kit.Config.TrustedProxyHops)
		answer, err := do(r.Context(), req)
		if err != nil {
			api.Fail(w, r, err)
			return
		}
		if status == http.StatusNoContent {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		api.JSON(w, r, status, answer)
	})
}

// ParseID reads the id named field (a path wildcard or a query parameter) as a UUID.
func ParseID(field, s string) (uuid.UUID, error) {
	id, err := uuid.Parse(s)
	if err != nil {
		return uuid.Nil, fault.ErrBadParameter.WithMessage("%s must be a UUID", field).OnField(field)
	}
	return id, nil
}

// Unavailable is the handler of a function that could not be built because something it
// needs is missing (its buckets): every request answers 503 C014 saying why. A deployed
// binary refuses to start such a function instead (registry.Servable).
func Unavailable(why string, err error) http.Handler {
	slog.Error("function cannot serve: "+why, "error", err.Error())
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		api.Fail(w, r, fault.ErrUnavailable.WithMessage("%s", why).Wrap(err))
	})
}
