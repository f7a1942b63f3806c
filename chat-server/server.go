// Package chatserver is the chat container: one stateful service holding the WebSocket
// connections between the buyer and the seller of each trade. A message is stored in
// PostgreSQL before anyone sees it, numbered within its room, and fanned out to the other
// replicas through Redis; a client that reconnects with the last id it saw gets what it
// missed. The same container serves the chat REST routes and consumes the trade events
// that open and close rooms (registry.HostedBy("chat-server")).
package chatserver

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"
	"github.com/google/uuid"
	"go.opentelemetry.io/otel/trace"
	"golang.org/x/time/rate"

	"github.com/8949market/market/shared/api"
	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/chat"
	"github.com/8949market/market/shared/cors"
	"github.com/8949market/market/shared/fault"
	"github.com/8949market/market/shared/platform"
	"github.com/8949market/market/shared/registry"
	"github.com/8949market/market/shared/serve"
)

// Server is the chat container's HTTP surface and its connections.
type Server struct {
	kit      *platform.Kit
	store    *chat.Store
	hub      *hub
	presence *presence
	mux      *http.ServeMux
	// origins are the allowed browser origins besides the server's own host, as
	// coder/websocket's patterns.
	origins []string
	// handler is mux, instrumented, beside the hosted event functions (instrumented by
	// their own names), so each request is logged once.
	handler http.Handler

	// ctx is the connections' parent: cancelled when the server has drained.
	ctx    context.Context
	cancel context.CancelFunc

	mu       sync.Mutex
	conns    map[*conn]struct{}
	draining bool
	wg       sync.WaitGroup
}

// New builds the chat server on kit and starts its Redis subscription; Run serves it.
func New(kit *platform.Kit) *Server {
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{
		kit:   kit,
		store: chat.NewStore(kit.DB),
		hub:   newHub(kit.Redis),
		presence: &presence{rdb: kit.Redis, max: kit.Config.ChatMaxConnsPerUser,
			ttl: 3 * kit.Config.ChatPingInterval},
		mux:     http.NewServeMux(),
		ctx:     ctx,
		cancel:  cancel,
		conns:   map[*conn]struct{}{},
		origins: originPatterns(kit.Config.CORSAllowedOrigins),
	}
	go s.hub.run(ctx)
	go s.followTokens(ctx)

	s.mux.HandleFunc("GET /healthz", s.health)
	s.mux.HandleFunc("GET /api/v1/chat/healthz", s.health)
	s.mux.Handle("GET /api/v1/chat/ws", http.HandlerFunc(s.upgrade))
	s.mux.Handle("GET /api/v1/chat/rooms", kit.Verifier.Require(http.HandlerFunc(s.listRooms)))
	s.mux.Handle("GET /api/v1/chat/rooms/{roomId}", kit.Verifier.Require(http.HandlerFunc(s.getRoom)))
	s.mux.Handle("GET /api/v1/chat/rooms/{roomId}/messages", kit.Verifier.Require(http.HandlerFunc(s.messages)))
	s.mux.Handle("POST /api/v1/chat/rooms/{roomId}/read", kit.Verifier.Require(http.HandlerFunc(s.markRead)))
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		api.Fail(w, r, fault.ErrNotFound.WithMessage("no chat route for %s %s", r.Method, r.URL.Path))
	})
	// The trade events that open and close rooms: every event function of the binary that
	// the registry says this server hosts, behind the same delivery check as everywhere.
	outer := http.NewServeMux()
	for _, f := range Hosted() {
		outer.Handle("POST /internal/functions/"+f.Name, f.Handler(kit))
	}
	// Browsers on the allowed origins may call the REST routes (CORS) and open the
	// WebSocket (its origin check, in upgrade): one list for both, the REST functions'.
	outer.Handle("/", api.Instrument("chat-server", cors.Handler(kit.Config.CORSAllowedOrigins, s.mux)))
	s.handler = outer
	return s
}

// Service is the name the registry and the manifest know this server by.
const Service = "chat-server"

// Hosted returns the event functions this server serves: those of the binary's registry
// registered registry.HostedBy(Service).
func Hosted() []registry.Function { return registry.Hosted(Service) }

// Handler serves the chat routes, instrumented like every function.
func (s *Server) Handler() http.Handler { return s.handler }

// Run serves on srv until ctx ends, then drains: it stops accepting, tells every client
// to reconnect (elsewhere), closes the connections and waits up to drain for them.
func (s *Server) Run(ctx context.Context, srv *serve.Server, drain time.Duration) error {
	srv.RegisterOnShutdown(func() {
		sctx, cancel := context.WithTimeout(context.Background(), drain)
		defer cancel()
		s.Shutdown(sctx)
	})
	err := srv.Run(ctx, drain)
	sctx, cancel := context.WithTimeout(context.Background(), drain)
	defer cancel()
	s.Shutdown(sctx)
	return err
}

// Shutdown refuses new connections, asks the open ones to reconnect and waits for them to
// close (or ctx to end), then stops the Redis subscription. It may be called again: only
// the first call tells the clients; every call waits.
func (s *Server) Shutdown(ctx context.Context) {
	s.mu.Lock()
	first := !s.draining
	s.draining = true
	open := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		if first {
			open = append(open, c)
		}
	}
	s.mu.Unlock()
	for _, c := range open {
		c.enqueue(item{frame: &Frame{Type: TypeReconnect, Error: "server restarting; reconnect with your last ids"}})
		c.close(websocket.StatusServiceRestart, "server restarting")
	}
	done := make(chan struct{})
	go func() {
		s.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
		slog.Warn("chat: drain timed out; dropping connections")
	}
	s.cancel()
	<-s.hub.done
}

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
	s.mu.Lock()
	n := len(s.conns)
	s.mu.Unlock()
	api.OK(w, r, map[string]any{"status": "ok", "service": "chat-server", "connections": n})
}

// upgrade authenticates the caller and turns the request into a chat connection. The
// token comes from the Authorization header or, for browsers, the subprotocol
// "bearer.<token>"; never from the URL, which ends up in logs.
func (s *Server) upgrade(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Has("token") || q.Has("access_token") {
		api.Fail(w, r, fault.ErrBadParameter.WithMessage("send the token in the Authorization header or the Sec-WebSocket-Protocol, not the URL"))
		return
	}
	token, ok := auth.BearerToken(r)
	if !ok {
		token, ok = subprotocolToken(r)
	}
	if !ok {
		api.Fail(w, r, auth.ErrTokenMissing)
		return
	}
	who, err := s.kit.Verifier.Verify(r.Context(), token)
	if err == nil && !time.Now().Before(who.ExpiresAt) {
		err = errExpired // within the verifier's clock skew, but a connection ends at exp
	}
	if err != nil {
		api.Fail(w, r, err)
		return
	}
	c := &conn{s: s, id: uuid.NewString(), token: token, who: who, upgrade: trace.SpanContextFromContext(r.Context()),
		queue:   make(chan item, s.kit.Config.ChatSendBuffer),
		joined:  map[uuid.UUID]bool{},
		last:    map[uuid.UUID]int64{},
		limiter: rate.NewLimiter(rate.Limit(s.kit.Config.ChatMessagesPerSecond), s.kit.Config.ChatBurst),
	}
	s.mu.Lock()
	draining := s.draining
	s.mu.Unlock()
	if draining {
		api.Fail(w, r, fault.ErrUnavailable.WithMessage("server restarting; reconnect"))
		return
	}
	admitted, err := s.presence.add(r.Context(), who.UserID, c.id)
	if err != nil {
		api.Fail(w, r, fault.ErrUnavailable.Wrap(err))
		return
	}
	if !admitted {
		api.Fail(w, r, chat.ErrTooManyConns)
		return
	}
	forget := func(ctx context.Context) {
		if err := s.presence.remove(ctx, who.UserID, c.id); err != nil {
			slog.Warn("chat: presence remove", "conn", c.id, "error", err.Error())
		}
	}
	ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{Subprotocols: []string{Subprotocol}, OriginPatterns: s.origins})
	if err != nil {
		forget(context.WithoutCancel(r.Context()))
		return // Accept has answered
	}
	c.ws = ws
	c.ctx, c.cancel = context.WithCancelCause(s.ctx)
	if !s.track(c) {
		_ = ws.Close(websocket.StatusServiceRestart, "server restarting")
		forget(context.WithoutCancel(r.Context()))
		return
	}
	connections.Add(r.Context(), 1)
	// The request is answered (101) once the connection is open: the handler returns and
	// the connection is served on its own, so the upgrade's server span and its entry in
	// the request metrics measure the handshake, not the connection's life (hours, which
	// would make the server's latency percentiles meaningless). The hijacked connection is
	// no longer net/http's; the server tracks it (track, Shutdown). The logs of the
	// connection keep the upgrade's trace id.
	logCtx := context.WithoutCancel(r.Context())
	slog.InfoContext(logCtx, "chat: connected", "conn", c.id, "user", who.UserID)
	go func() {
		// Untracked after it is forgotten: a drain, which waits for the tracked
		// connections, ends with their slots given back (and before the process closes
		// Redis).
		defer s.untrack(c)
		defer connections.Add(context.Background(), -1)
		// Forgotten in a trace of its own: the upgrade's ended long ago.
		defer forget(context.Background())
		c.serve()
		slog.InfoContext(logCtx, "chat: disconnected", "conn", c.id, "user", who.UserID, "cause", context.Cause(c.ctx))
	}()
}

// originPatterns turns exact origins into coder/websocket's OriginPatterns: a pattern
// with "://" is matched (path.Match) against the Origin's scheme and host, so the
// characters path.Match reads are escaped and an origin matches only itself. With none,
// the WebSocket accepts only its own host's pages and clients that send no Origin.
func originPatterns(origins []string) []string {
	out := make([]string, 0, len(origins))
	for _, o := range origins {
		var b strings.Builder
		for _, c := range o {
			if strings.ContainsRune(`*?[]\`, c) {
				b.WriteByte('\\')
			}
			b.WriteRune(c)
		}
		out = append(out, b.String())
	}
	return out
}

func subprotocolToken(r *http.Request) (string, bool) {
	for _, header := range r.Header.Values("Sec-WebSocket-Protocol") {
		for p := range strings.SplitSeq(header, ",") {
			if t, ok := strings.CutPrefix(strings.TrimSpace(p), "bearer."); ok && t != "" {
				return t, true
			}
		}
	}
	return "", false
}

// RevocationDelay bounds how long a connection outlives the revocation of its token
// (logout, password change, role change, deletion): the verifier hears of a revocation at
// once, at worst auth.RevocationsMaxStale later, and every connection's token is checked
// every tokenCheckEvery. An expiry needs no check: each connection ends at its exp.
const RevocationDelay = auth.RevocationsMaxStale + tokenCheckEvery

// tokenCheckEvery is how often every open connection's token is checked again, sending or
// not. The verifier answers a token it has seen from memory in under a microsecond, so one
// pass over all connections costs little more than taking the list.
const tokenCheckEvery = time.Second

// followTokens checks every open connection's token each tokenCheckEvery until ctx ends,
// and ends the sessions whose token no longer holds.
func (s *Server) followTokens(ctx context.Context) {
	t := time.NewTicker(tokenCheckEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.checkTokens(ctx)
		}
	}
}

// checkTokens verifies each open connection's token once. While the verifier cannot answer
// (its revocations unreachable), the pass stops and connections stay open: the next pass
// decides, and no frame is acted on meanwhile, as each is verified too.
func (s *Server) checkTokens(ctx context.Context) {
	s.mu.Lock()
	open := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		open = append(open, c)
	}
	s.mu.Unlock()
	for _, c := range open {
		vctx, cancel := context.WithTimeout(ctx, tokenCheckEvery)
		err := c.verify(vctx)
		cancel()
		if !c.followToken(err) {
			slog.Warn("chat: tokens not checked: the verifier cannot answer", "connections", len(open), "error", err.Error())
			return
		}
	}
}

func (s *Server) track(c *conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.draining {
		return false
	}
	s.conns[c] = struct{}{}
	s.wg.Add(1)
	return true
}

func (s *Server) untrack(c *conn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
	s.wg.Done()
}
