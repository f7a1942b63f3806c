// Package router serves a set of functions on one origin: what API Gateway, the push
// subscriptions and Cloud Scheduler reach on GCP as one service per function, the dev
// stack and the all-in-one functions binary serve from one port. REST functions answer
// by method and path; event and scheduled functions at POST /internal/functions/{name},
// behind the same delivery check as on their own service; /api/v1/chat/ goes to the chat
// server; GET /healthz says whether the process is ready and its database and Redis
// answer. Every response carries the security headers (api.Secure), whatever answers it.
package router

import (
	"context"
	"net/http"
	"net/http/httputil"
	"net/url"
	"time"

	"github.com/8949market/market/shared/api"
	"github.com/8949market/market/shared/fault"
	"github.com/8949market/market/shared/platform"
	"github.com/8949market/market/shared/registry"
)

// Options say what else the origin serves.
type Options struct {
	// Chat, if set, is the chat server /api/v1/chat/ is proxied to.
	Chat *url.URL
	// Ready, if set, gates /healthz (a stack still starting answers 503).
	Ready func() bool
	// Debug is served as is, by ServeMux pattern: make dev's /metrics and trace view.
	// The deployed functions have none (Cloud Monitoring and Cloud Trace take their place).
	Debug map[string]http.Handler
	// Storage, if set, is the local stand-in for Cloud Storage, served at /storage/ (the
	// dev stacks: their signed upload URLs and photo URLs point there).
	Storage http.Handler
}

// New serves fns on one origin. Functions hosted by another service (registry.HostedBy)
// are that service's to serve and are left out.
func New(kit *platform.Kit, fns []registry.Function, opts Options) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /healthz", api.Instrument("healthz", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		health(w, r, kit, opts.Ready)
	})))
	if opts.Chat != nil {
		proxy := httputil.NewSingleHostReverseProxy(opts.Chat)
		proxy.ErrorHandler = func(w http.ResponseWriter, r *http.Request, err error) {
			api.Fail(w, r, fault.ErrUnavailable.WithMessage("chat server unreachable").Wrap(err))
		}
		mux.Handle("/api/v1/chat/", proxy)
	}
	if opts.Storage != nil {
		mux.Handle("/storage/", http.StripPrefix("/storage", opts.Storage))
	}
	for pattern, h := range opts.Debug {
		mux.Handle(pattern, h)
	}
	for _, f := range Served(fns) {
		if f.Internal() {
			mux.Handle("POST /internal/functions/"+f.Name, f.Handler(kit))
		}
	}
	mux.Handle("/", registry.NewMux(kit, Served(fns)))
	// Functions set the headers themselves; this covers the rest of the origin: the
	// ServeMux's own answers (a redirect to a clean path) and the proxied chat server.
	return api.Secure(mux)
}

// Served returns the functions of fns that New serves.
func Served(fns []registry.Function) []registry.Function {
	var out []registry.Function
	for _, f := range fns {
		if f.Host == "" {
			out = append(out, f)
		}
	}
	return out
}

func health(w http.ResponseWriter, r *http.Request, kit *platform.Kit, ready func() bool) {
	if ready != nil && !ready() {
		api.Fail(w, r, fault.ErrUnavailable.WithMessage("starting"))
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := kit.DB.Ping(ctx); err != nil {
		api.Fail(w, r, fault.ErrUnavailable.WithMessage("database unreachable").Wrap(err))
		return
	}
	if err := kit.Redis.Ping(ctx).Err(); err != nil {
		api.Fail(w, r, fault.ErrUnavailable.WithMessage("redis unreachable").Wrap(err))
		return
	}
	api.OK(w, r, map[string]any{"status": "ok"})
}
