// Package chatserver is the chat container: one stateful service that will hold the
// WebSocket rooms between buyer and seller (issue 8). Today it serves its health checks
// and the /api/v1/chat/ namespace, so the dev router and deployments already route to it.
package chatserver

import (
	"context"
	"net/http"
	"time"

	"github.com/8949market/market/shared/api"
	"github.com/8949market/market/shared/fault"
	"github.com/8949market/market/shared/platform"
)

// Server is the chat container's HTTP surface.
type Server struct {
	kit *platform.Kit
	mux *http.ServeMux
}

// New builds the chat server on kit.
func New(kit *platform.Kit) *Server {
	s := &Server{kit: kit, mux: http.NewServeMux()}
	s.mux.HandleFunc("GET /healthz", s.health)
	s.mux.HandleFunc("GET /api/v1/chat/healthz", s.health)
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		api.Fail(w, r, fault.ErrNotFound.WithMessage("no chat route for %s %s", r.Method, r.URL.Path))
	})
	return s
}

// Handler serves the chat routes, instrumented like every function.
func (s *Server) Handler() http.Handler { return api.Instrument("chat-server", s.mux) }

func (s *Server) health(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.kit.DB.Ping(ctx); err != nil {
		api.Fail(w, r, fault.ErrUnavailable.WithMessage("database unreachable").Wrap(err))
		return
	}
	if err := s.kit.Redis.Ping(ctx).Err(); err != nil {
		api.Fail(w, r, fault.ErrUnavailable.WithMessage("redis unreachable").Wrap(err))
		return
	}
	api.OK(w, r, map[string]string{"status": "ok", "service": "chat-server"})
}
