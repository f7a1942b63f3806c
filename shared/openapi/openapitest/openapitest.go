// Package openapitest holds every request and answer of the end-to-end tests to the API
// reference: stacktest checks each exchange it makes through Check, so the document
// cannot drift from behaviour. The document is generated in the test's process from the
// registry and the chat server's reference, which is what `make openapi` commits (a test
// in cmd/openapi fails when the committed copy is stale).
//
// An answer is always checked: its status must be one the operation lists, its body the
// schema of that status (an error's code one of those listed for the status). A request
// is checked when it succeeded: what the platform accepts must be what the reference
// describes; a refused request is the test probing a refusal, and its answer says why.
package openapitest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	chatserver "github.com/8949market/market/chat-server"
	"github.com/8949market/market/shared/openapi"
	"github.com/8949market/market/shared/registry"
)

// exactly says whether path has the template's segments, each parameter one non-empty
// segment (the router is lenient with an empty one).
func exactly(template, path string) bool {
	p, err := registry.ParsePattern(template)
	if err != nil {
		return false
	}
	_, ok := p.Match(path)
	return ok
}

var (
	once   sync.Once
	router routers.Router
	errDoc error
)

// Router is the reference's router, built once per test binary.
func Router() (routers.Router, error) {
	once.Do(func() {
		var doc *openapi3.T
		if doc, errDoc = openapi.Build(registry.All(), chatserver.Reference()); errDoc != nil {
			return
		}
		doc.Servers = nil // match by path, whatever host the test's server has
		router, errDoc = legacy.NewRouter(doc)
	})
	return router, errDoc
}

// Check validates one exchange against the reference; body and answer are the bytes sent
// and received. Requests to routes the reference does not describe (health checks,
// internal deliveries, a path probing the 404) and CORS preflights are not its business.
func Check(req *http.Request, body []byte, status int, header http.Header, answer []byte) error {
	if req.Method == http.MethodOptions || !strings.HasPrefix(req.URL.Path, "/api/v1/") {
		return nil
	}
	r, err := Router()
	if err != nil {
		return fmt.Errorf("contract: the reference does not build: %w", err)
	}
	route, params, err := r.FindRoute(req)
	if err != nil || !exactly(route.Path, req.URL.Path) {
		return nil //nolint:nilerr // not a documented route: a 404 or 405 probe
	}
	if (status == http.StatusNotFound || status == http.StatusMethodNotAllowed) && route.Operation.Responses.Status(status) == nil {
		// The origin's own answer to a request it routes nowhere (a binary serving one
		// function asked for another's route, a method probe): not the operation's.
		return nil
	}
	in := &openapi3filter.RequestValidationInput{
		Request: req, PathParams: params, Route: route,
		Options: &openapi3filter.Options{
			AuthenticationFunc:    openapi3filter.NoopAuthenticationFunc,
			IncludeResponseStatus: true,
			MultiError:            true,
		},
	}
	var errs []error
	if status >= 200 && status < 300 && status != http.StatusSwitchingProtocols {
		req.Body = io.NopCloser(bytes.NewReader(body))
		if err := openapi3filter.ValidateRequest(context.Background(), in); err != nil {
			errs = append(errs, fmt.Errorf("request accepted (%d) but not as documented: %w", status, err))
		}
	}
	if status != http.StatusSwitchingProtocols {
		out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: status, Header: header, Options: in.Options}
		out.SetBodyBytes(answer)
		if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
			errs = append(errs, fmt.Errorf("answer %d not as documented: %w\nbody: %.600s", status, err, answer))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("contract: %s %s (%s): %w", req.Method, req.URL.Path, route.Operation.OperationID, errors.Join(errs...))
	}
	return nil
}
