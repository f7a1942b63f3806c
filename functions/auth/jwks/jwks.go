// Package jwks is the function auth-jwks: GET /api/v1/auth/jwks publishes the public keys
// that verify access tokens, so any service can verify without a private key.
//
// The key set is served bare (RFC 7517), not in the success envelope, because JWT
// libraries read it as is.
package jwks

import (
	"encoding/json"
	"net/http"
	"reflect"
	"slices"
	"strings"

	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/platform"
	"github.com/8949market/market/shared/registry"
)

// doc is the route's contract: a bare key set, not the success envelope.
var doc = registry.Operation{
	Summary: "Get the token verification keys",
	Description: "Publishes the public keys that verify access tokens, as a bare JSON Web Key Set " +
		"(RFC 7517), not in the success envelope, so JWT libraries read it as is. Anyone may fetch it. " +
		"Each key is Ed25519 (`kty` `OKP`, `crv` `Ed25519`, `alg` `EdDSA`); pick the one whose `kid` " +
		"matches the token's header. Several keys are listed while keys rotate, so a new key is known " +
		"before it signs. The answer may be cached for 5 minutes (`Cache-Control: public, max-age=300`).",
	Public:      true,
	Status:      http.StatusOK,
	ContentType: "application/jwk-set+json",
	Answer:      reflect.TypeFor[auth.JWKS](),
	AnswerExample: auth.JWKS{Keys: []auth.JWK{
		{Kty: "OKP", Crv: "Ed25519", Kid: "2026-11", Alg: "EdDSA", Use: "sig", X: "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"},
	}},
}

func init() {
	registry.HTTP("auth-jwks", "GET /api/v1/auth/jwks", New, registry.Public(), registry.Describe(doc))
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
