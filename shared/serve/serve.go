// Package serve runs an HTTP server until its context ends, then drains it.
package serve

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"time"
)

// Server is an HTTP server bound to a listener.
type Server struct {
	srv *http.Server
	ln  net.Listener
}

// Listen binds addr (":0" picks a free port) for h. Read timeouts guard against slow
// clients; there is no write timeout because chat and streaming responses are long-lived.
func Listen(addr string, h http.Handler) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", addr, err)
	}
	return &Server{
		ln: ln,
		srv: &http.Server{
			Handler:           h,
			ReadHeaderTimeout: 10 * time.Second,
			ReadTimeout:       60 * time.Second,
			IdleTimeout:       120 * time.Second,
		},
	}, nil
}

// Addr is the bound address.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// URL is an http:// URL that reaches the server from this host: a wildcard bind
// (":8080") is reached on the loopback address.
func (s *Server) URL() string {
	addr := s.ln.Addr().(*net.TCPAddr)
	host := addr.IP.String()
	if addr.IP.IsUnspecified() {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, strconv.Itoa(addr.Port))
}

// Run serves until ctx ends, then stops accepting and waits up to drain for requests in
// flight. It returns nil on a clean stop.
func (s *Server) Run(ctx context.Context, drain time.Duration) error {
	errc := make(chan error, 1)
	go func() { errc <- s.srv.Serve(s.ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve %s: %w", s.Addr(), err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), drain)
	defer cancel()
	if err := s.srv.Shutdown(sctx); err != nil {
		slog.Warn("drain did not finish; closing connections", "addr", s.Addr(), "error", err.Error())
		_ = s.srv.Close()
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve %s: %w", s.Addr(), err)
	}
	return nil
}

// RegisterOnShutdown runs f when the server starts draining (long-lived connections such
// as WebSockets use it to tell clients to reconnect).
func (s *Server) RegisterOnShutdown(f func()) { s.srv.RegisterOnShutdown(f) }
