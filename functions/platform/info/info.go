// Package info is the function platform-info: GET /api/v1/platform/info names the service
// and its clock for anyone (a client times its deal countdowns by it), and tells an
// administrator which build is answering and how it is wired (revision, Go version,
// backbone, topic prefix, functions). Build internals are not for anonymous callers: a
// Go version or revision tells an attacker which known flaws to try.
package info

import (
	"net/http"
	"reflect"
	"runtime"
	"runtime/debug"
	"time"

	"github.com/8949market/market/shared/api"
	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/fault"
	"github.com/8949market/market/shared/platform"
	"github.com/8949market/market/shared/registry"
)

// doc is the route's contract (the handler is not endpoint.Handle: its answer depends on an
// optional token).
var doc = registry.Operation{
	Summary: "Get the service's name and clock",
	Description: "Tells anyone the service's name and its current time (UTC), by which a client times " +
		"its deal countdowns. No access token is needed; one that is sent must be valid and unrevoked " +
		"(401 `C002`).\n\n" +
		"The build part (`revision`, `goVersion`, `backbone`, `topicPrefix`, `functions`: which build " +
		"answers and how it is wired) is included only when the token is an administrator's (MANAGER or " +
		"MASTER); for anyone else those fields are absent.",
	Public: true,
	Status: http.StatusOK,
	Answer: reflect.TypeFor[Response](),
	AnswerExample: Response{
		Service: "8949-market",
		Time:    time.Date(2026, 12, 5, 11, 59, 57, 250_000_000, time.UTC),
		Build: &Build{
			Revision: "6b9d27a4c1e85f3d2b7a90e6c4d18f5b3a2e7c90", GoVersion: "go1.26.8",
			Backbone: "pubsub", TopicPrefix: "prod-", Functions: 73,
		},
	},
	Errors: []*fault.Error{auth.ErrTokenInvalid},
}

func init() {
	registry.HTTP("platform-info", "GET /api/v1/platform/info", New, registry.Public(), registry.Describe(doc))
}

// Response is what anyone sees, plus Build for an administrator.
type Response struct {
	Service string    `json:"service"`
	Time    time.Time `json:"time"`
	*Build
}

// Build is how the answering process is built and wired; administrators only.
type Build struct {
	Revision    string `json:"revision"`
	GoVersion   string `json:"goVersion"`
	Backbone    string `json:"backbone"`
	TopicPrefix string `json:"topicPrefix"`
	Functions   int    `json:"functions"`
}

// New builds the handler. The route is public; a caller that sends an access token is
// held to it (an invalid one is refused, as anywhere), and a MANAGER or MASTER sees the
// build.
func New(kit *platform.Kit) http.Handler {
	revision := "unknown"
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				revision = s.Value
			}
		}
	}
	build := &Build{
		Revision:    revision,
		GoVersion:   runtime.Version(),
		Backbone:    kit.Config.Backbone,
		TopicPrefix: kit.Config.TopicPrefix,
		Functions:   len(registry.All()),
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		res := Response{Service: "8949-market", Time: time.Now().UTC()}
		if raw, ok := auth.BearerToken(r); ok {
			who, err := kit.Verifier.Verify(r.Context(), raw)
			if err != nil {
				api.Fail(w, r, err)
				return
			}
			if who.IsAdmin() {
				res.Build = build
			}
		}
		api.OK(w, r, res)
	})
}
