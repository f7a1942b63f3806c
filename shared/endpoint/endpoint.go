// Package endpoint is the one shape of a REST adapter: it hands a function its verified
// caller, the path's id and the decoded body, calls it, and writes the answer in the
// success envelope or the fault as the error body. Adapters are decode-call-encode and
// nothing else; the rules and the SQL stay in the domain packages, which know no HTTP.
//
//	func New(kit *platform.Kit) http.Handler {
//		store := products.NewStore(kit.DB)
//		return endpoint.Handle(kit, func(ctx context.Context, r endpoint.Request[endpoint.None]) (products.View, error) {
//			return products.Cancel(ctx, store, r.ID, r.Who, time.Now())
//		}, endpoint.PathID("productId"))
//	}
package endpoint

import (
	"context"
	"net/http"
	"net/url"

	"github.com/google/uuid"

	"github.com/8949market/market/shared/api"
	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/fault"
	"github.com/8949market/market/shared/platform"
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
	// Body is the JSON body, strictly decoded (api.Decode), unless B is None.
	Body B
	// Query is the URL's query.
	Query url.Values
	// Client is the caller's address, as the kit's trusted proxies report it.
	Client string
}

// Option adjusts how an endpoint reads and answers.
type Option func(*route)

type route struct {
	pathID string
	status int
	public bool
}

// PathID names the path wildcard the route's id is read from ("productId"); a value that
// is not a UUID is refused with 400 C015 on that field before the body is read.
func PathID(name string) Option { return func(r *route) { r.pathID = name } }

// Created answers 201 instead of 200.
func Created() Option { return func(r *route) { r.status = http.StatusCreated } }

// NoContent answers 204 with no body; the function's answer is dropped.
func NoContent() Option { return func(r *route) { r.status = http.StatusNoContent } }

// Public lets the function run without a caller, for routes registered
// registry.Public() (signup, login, reissue). Every other route refuses a request without
// a verified caller with 401 C002 — the registry already did, so this is the belt to its
// braces, with the same code.
func Public() Option { return func(r *route) { r.public = true } }

// Handle is the adapter: caller, path id, body, then do; its answer or fault is written.
func Handle[B, R any](kit *platform.Kit, do func(ctx context.Context, r Request[B]) (R, error), opts ...Option) http.Handler {
	rt := route{status: http.StatusOK}
	for _, o := range opts {
		o(&rt)
	}
	_, noBody := any((*B)(nil)).(*None)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req Request[B]
		who, ok := auth.FromContext(r.Context())
		if !ok && !rt.public {
			api.Fail(w, r, fault.ErrUnauthenticated)
			return
		}
		req.Who = who
		if rt.pathID != "" {
			id, err := ParseID(rt.pathID, r.PathValue(rt.pathID))
			if err != nil {
				api.Fail(w, r, err)
				return
			}
			req.ID = id
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
		if rt.status == http.StatusNoContent {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		api.JSON(w, r, rt.status, answer)
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
