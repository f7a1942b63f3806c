package deployed

import (
	"net/http"
	"net/http/httputil"
	"net/url"

	"github.com/8949market/market/shared/api"
	"github.com/8949market/market/shared/fault"
	"github.com/8949market/market/shared/registry"
)

// routes is API Gateway's stand-in, built from the manifest as Terraform builds the
// gateway's config: each REST function's method and path to its own service, the full
// path appended (APPEND_PATH_TO_ADDRESS), the most specific path winning as in ESPv2, a
// browser's CORS preflight (OPTIONS) to a function of its path, as the gateway's config
// declares an OPTIONS operation per path (registry.Mux), the chat server's REST routes,
// preflights included, to the chat server, and no WebSocket (API Gateway carries
// none: clients reach the chat server on its own URL). The proxy appends the client's
// address to X-Forwarded-For, as the gateway does.
func (s *Shape) routes() http.Handler {
	var routes []registry.Route
	for _, f := range s.opts.Manifest.Functions {
		if f.Kind != registry.KindHTTP || f.Host != "" {
			continue
		}
		p, err := registry.ParsePattern(f.Path)
		if err != nil {
			panic(err) // the manifest comes from a validated registry
		}
		target, _ := url.Parse(s.Functions[f.Name])
		routes = append(routes, registry.Route{Method: f.Method, Pattern: p, Handler: s.proxy(target)})
	}
	chatTarget, _ := url.Parse(s.ChatURL)
	chat := s.proxy(chatTarget)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		if exited := s.Exited(); len(exited) > 0 {
			api.Fail(w, r, fault.ErrUnavailable.WithMessage("%d processes exited", len(exited)))
			return
		}
		api.OK(w, r, map[string]any{"status": "ok", "processes": s.Processes()})
	})
	mux.HandleFunc("/api/v1/chat/ws", func(w http.ResponseWriter, r *http.Request) {
		api.Fail(w, r, fault.ErrNotFound.WithMessage("the gateway carries no WebSocket: connect to the chat server at %s", s.ChatURL))
	})
	mux.Handle("/api/v1/chat/", chat)
	mux.Handle("/", registry.NewRouteMux(routes))
	return mux
}

func (s *Shape) proxy(target *url.URL) *httputil.ReverseProxy {
	return &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(target)
			// Append to what the client sent, as ESPv2 does; a function trusts only the
			// entry the gateway added (TRUSTED_PROXY_HOPS).
			r.Out.Header["X-Forwarded-For"] = r.In.Header["X-Forwarded-For"]
			r.SetXForwarded()
		},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			api.Fail(w, r, fault.ErrUnavailable.WithMessage("backend unreachable").Wrap(err))
		},
	}
}
