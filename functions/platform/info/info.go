// Package info is the function platform-info: GET /api/v1/platform/info names the service
// and its clock for anyone (a client times its deal countdowns by it), and tells an
// administrator which build is answering and how it is wired (revision, Go version,
// backbone, topic prefix, functions). Build internals are not for anonymous callers: a
// Go version or revision tells an attacker which known flaws to try.
package info

import (
	"net/http"
	"runtime"
	"runtime/debug"
	"time"

	"github.com/8949market/market/shared/api"
	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/platform"
	"github.com/8949market/market/shared/registry"
)

func init() {
	registry.HTTP("platform-info", "GET /api/v1/platform/info", New, registry.Public())
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
