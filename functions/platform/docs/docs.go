// Package docs is the function platform-docs: GET /api/v1/docs/{file} serves the
// browsable API reference to anyone: the page (index.html), Swagger UI's script and
// stylesheet, the page's initializer and the OpenAPI document (openapi.json) that make
// openapi generates from the registry, all embedded in the binary (shared/apidocs). make
// dev redirects /docs to the page.
package docs

import (
	"net/http"

	"github.com/8949market/market/shared/api"
	"github.com/8949market/market/shared/apidocs"
	"github.com/8949market/market/shared/fault"
	"github.com/8949market/market/shared/platform"
	"github.com/8949market/market/shared/registry"
)

func init() {
	registry.HTTP("platform-docs", "GET /api/v1/docs/{file}", New, registry.Public(), registry.Describe(registry.Operation{
		Summary: "The API reference",
		Description: "The browsable API reference: `/api/v1/docs/index.html` is the page (Swagger UI), " +
			"and the same route serves what it loads, `openapi.json` (this document, OpenAPI 3.1), " +
			"`swagger-ui-bundle.js`, `swagger-ui.css`, `swagger-initializer.js`, `docs.css` and the favicons. " +
			"Each answer has an ETag (If-None-Match answers 304) and is gzipped for a client that accepts it; " +
			"any other file is 404 C004.",
		Public:      true,
		Status:      http.StatusOK,
		ContentType: "text/html",
		Errors:      []*fault.Error{fault.ErrNotFound},
	}))
}

// New builds the handler. Not endpoint.Handle: bare files with their own content types,
// cache headers and, for the page, Content-Security-Policy.
func New(*platform.Kit) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		file, ok := apidocs.Open(r.PathValue("file"))
		if !ok {
			api.Fail(w, r, fault.ErrNotFound.WithMessage("no such file in the API reference"))
			return
		}
		file.ServeHTTP(w, r)
	})
}
