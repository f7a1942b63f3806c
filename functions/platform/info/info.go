// Package info is the function platform-info: GET /api/v1/platform/info says which build
// is answering and how it is wired (backbone, topic prefix, functions), without secrets.
package info

import (
	"net/http"
	"runtime"
	"runtime/debug"
	"time"

	"github.com/8949market/market/shared/api"
	"github.com/8949market/market/shared/platform"
	"github.com/8949market/market/shared/registry"
)

func init() {
	registry.HTTP("platform-info", "GET /api/v1/platform/info", New, registry.Public())
}

type response struct {
	Service     string    `json:"service"`
	Revision    string    `json:"revision"`
	GoVersion   string    `json:"goVersion"`
	Backbone    string    `json:"backbone"`
	TopicPrefix string    `json:"topicPrefix"`
	Functions   int       `json:"functions"`
	Time        time.Time `json:"time"`
}

// New builds the handler.
func New(kit *platform.Kit) http.Handler {
	revision := "unknown"
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				revision = s.Value
			}
		}
	}
	functions := len(registry.All())
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		api.OK(w, r, response{
			Service:     "8949-market",
			Revision:    revision,
			GoVersion:   runtime.Version(),
			Backbone:    kit.Config.Backbone,
			TopicPrefix: kit.Config.TopicPrefix,
			Functions:   functions,
			Time:        time.Now().UTC(),
		})
	})
}
