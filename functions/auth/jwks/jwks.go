// Package jwks is the function auth-jwks: GET /api/v1/auth/jwks publishes the public keys
// that verify access tokens, so any service can verify without a private key.
//
// The key set is served bare (RFC 7517), not in the success envelope, because JWT
// libraries read it as is.
package jwks

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"

	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/platform"
	"github.com/8949market/market/shared/registry"
)

func init() {
	registry.HTTP("auth-jwks", "GET /api/v1/auth/jwks", New, registry.Public())
}

// New builds the handler.
func New(kit *platform.Kit) http.Handler {
	set := kit.Verifier.Keys().JWKS()
	slices.SortFunc(set.Keys, func(a, b auth.JWK) int { return strings.Compare(a.Kid, b.Kid) })
	body, err := json.Marshal(set)
	if err != nil {
		panic("jwks: marshal public keys: " + err.Error()) // cannot happen for these types
	}
	// Not endpoint.Handle: a bare key set with its own content type and cache headers.
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/jwk-set+json")
		// Short enough that a rotated-in key is picked up well before it signs.
		w.Header().Set("Cache-Control", "public, max-age=300")
		_, _ = w.Write(body)
	})
}
