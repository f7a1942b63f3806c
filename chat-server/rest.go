package chatserver

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/8949market/market/shared/api"
	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/chat"
	"github.com/8949market/market/shared/fault"
	"github.com/8949market/market/shared/page"
)

// listRooms is GET /api/v1/chat/rooms: the caller's rooms, most recently active first,
// each with its last message and the caller's unread count. q searches the product name
// and both nicknames; status keeps one state; an administrator may name userId.
func (s *Server) listRooms(w http.ResponseWriter, r *http.Request) {
	who, _ := auth.FromContext(r.Context())
	q := r.URL.Query()
	size, err := page.Size(r.URL.Query(), 20, 100)
	if err != nil {
		api.Fail(w, r, err)
		return
	}
	f := chat.ListFilter{Query: strings.TrimSpace(q.Get("q"))}
	if len([]rune(f.Query)) > 100 {
		api.Fail(w, r, fault.ErrBadParameter.WithMessage("q must be at most 100 characters").OnField("q"))
		return
	}
	switch st := chat.Status(strings.ToUpper(q.Get("status"))); st {
	case "":
	case chat.Trading, chat.Completed, chat.Cancelled:
		f.Status = st
	default:
		api.Fail(w, r, fault.ErrBadParameter.WithMessage("status must be TRADING, COMPLETED or CANCELLED").OnField("status"))
		return
	}
	if raw := q.Get("userId"); raw != "" {
		if f.UserID, err = uuid.Parse(raw); err != nil {
			api.Fail(w, r, fault.ErrBadParameter.WithMessage("userId must be a UUID").OnField("userId"))
			return
		}
	}
	p, err := s.store.List(r.Context(), who, f, size, q.Get("cursor"))
	if err != nil {
		api.Fail(w, r, err)
		return
	}
	api.OK(w, r, p)
}

// getRoom is GET /api/v1/chat/rooms/{roomId}: members and administrators.
func (s *Server) getRoom(w http.ResponseWriter, r *http.Request) {
	who, _ := auth.FromContext(r.Context())
	id, err := chat.ParseRoomID(r.PathValue("roomId"))
	if err != nil {
		api.Fail(w, r, err)
		return
	}
	room, err := s.store.RoomFor(r.Context(), who, id)
	if err != nil {
		api.Fail(w, r, err)
		return
	}
	api.OK(w, r, room)
}

// messages is GET /api/v1/chat/rooms/{roomId}/messages?before=&limit=: a page of history,
// oldest first, before a message id (default: the newest).
func (s *Server) messages(w http.ResponseWriter, r *http.Request) {
	who, _ := auth.FromContext(r.Context())
	id, err := chat.ParseRoomID(r.PathValue("roomId"))
	if err != nil {
		api.Fail(w, r, err)
		return
	}
	q := r.URL.Query()
	before, err := intParam(q.Get("before"), 0, 1, 1<<62, "before")
	if err != nil {
		api.Fail(w, r, err)
		return
	}
	limit, err := intParam(q.Get("limit"), 50, 1, 200, "limit")
	if err != nil {
		api.Fail(w, r, err)
		return
	}
	h, err := s.store.Messages(r.Context(), who, id, before, int(limit))
	if err != nil {
		api.Fail(w, r, err)
		return
	}
	api.OK(w, r, h)
}

// ReadRequest is the body of POST /api/v1/chat/rooms/{roomId}/read.
type ReadRequest struct {
	LastID *int64 `json:"lastId"`
}

// markRead is POST /api/v1/chat/rooms/{roomId}/read: the member has read up to lastId.
// The other member's connections are told.
func (s *Server) markRead(w http.ResponseWriter, r *http.Request) {
	who, _ := auth.FromContext(r.Context())
	id, err := chat.ParseRoomID(r.PathValue("roomId"))
	if err != nil {
		api.Fail(w, r, err)
		return
	}
	var req ReadRequest
	if err := api.Decode(w, r, s.kit.Config.MaxBodyBytes, &req); err != nil {
		api.Fail(w, r, err)
		return
	}
	if req.LastID == nil {
		api.Fail(w, r, fault.ErrValidation.WithMessage("lastId is required").OnField("lastId"))
		return
	}
	room, err := s.store.MarkRead(r.Context(), who, id, *req.LastID)
	if err != nil {
		api.Fail(w, r, err)
		return
	}
	s.hub.broadcast(r.Context(), chat.Notice{Kind: chat.NoticeRead, RoomID: id, UserID: who.UserID, LastReadID: *room.LastReadID})
	api.OK(w, r, room)
}

// intParam reads a whole-number query parameter in [lo, hi], def when absent.
func intParam(raw string, def, lo, hi int64, name string) (int64, error) {
	if raw == "" {
		return def, nil
	}
	n, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || n < lo || n > hi {
		return 0, fault.ErrBadParameter.WithMessage("%s must be a whole number from %d to %d", name, lo, hi).OnField(name)
	}
	return n, nil
}
