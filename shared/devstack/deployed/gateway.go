package deployed

import (
	"net/http"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"

	"github.com/8949market/market/shared/api"
	"github.com/8949market/market/shared/fault"
	"github.com/8949market/market/shared/registry"
)

// route is one operation of the gateway's config: method and path to a backend.
type route struct {
	method  string
	pattern registry.Pattern
	proxy   *httputil.ReverseProxy
}

// routes is API Gateway's stand-in, built from the manifest as Terraform builds the
// gateway's config: each REST function's method and path to its own service, the full
// path appended (APPEND_PATH_TO_ADDRESS), the most specific path winning as in ESPv2,
// the chat server's REST routes to the chat server, and no WebSocket (API Gateway carries
// none: clients reach the chat server on its own URL). The proxy appends the client's
// address to X-Forwarded-For, as the gateway does.
func (s *Shape) routes() http.Handler {
	var routes []route
	for _, f := range s.opts.Manifest.Functions {
		if f.Kind != registry.KindHTTP || f.Host != "" {
			continue
		}
		p, err := registry.ParsePattern(f.Path)
		if err != nil {
			panic(err) // the manifest comes from a validated registry
		}
		target, _ := url.Parse(s.Functions[f.Name])
		routes = append(routes, route{method: f.Method, pattern: p, proxy: s.proxy(target)})
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
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		var best *route
		var allow []string
		for i := range routes {
			rt := &routes[i]
			if _, ok := rt.pattern.Match(r.URL.Path); !ok {
				continue
			}
			if rt.method != r.Method {
				allow = append(allow, rt.method)
				continue
			}
			if best == nil || rt.pattern.MoreSpecific(best.pattern) {
				best = rt
			}
		}
		switch {
		case best != nil:
			best.proxy.ServeHTTP(w, r)
		case len(allow) > 0:
			slices.Sort(allow)
			w.Header().Set("Allow", strings.Join(slices.Compact(allow), ", "))
			api.Fail(w, r, fault.ErrMethodNotAllowed)
		default:
			api.Fail(w, r, fault.ErrNotFound.WithMessage("no route for %s %s", r.Method, r.URL.Path))
		}
	})
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
