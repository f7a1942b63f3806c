package chatserver

import (
	"fmt"
	"net/http"
	"reflect"
	"time"

	"github.com/coder/websocket"
	"github.com/google/uuid"

	"github.com/8949market/market/shared/chat"
	"github.com/8949market/market/shared/fault"
	"github.com/8949market/market/shared/page"
	"github.com/8949market/market/shared/registry"
)

// Reference describes the chat server's routes under /api/v1/chat/ for the API reference,
// as the code behaves: the four REST routes and the WebSocket with its frames and close
// codes. The health checks are infrastructure and left out. TestReference holds it to
// the routes server.go registers and the frame types conn.go reads and writes.
func Reference() []registry.External {
	return []registry.External{
		{Name: "chat-ws", Method: http.MethodGet, Path: "/api/v1/chat/ws", Operation: wsOperation()},
		{Name: "chat-rooms-list", Method: http.MethodGet, Path: "/api/v1/chat/rooms", Operation: listOperation()},
		{Name: "chat-rooms-get", Method: http.MethodGet, Path: "/api/v1/chat/rooms/{roomId}", Operation: getOperation()},
		{Name: "chat-messages-list", Method: http.MethodGet, Path: "/api/v1/chat/rooms/{roomId}/messages", Operation: messagesOperation()},
		{Name: "chat-rooms-read", Method: http.MethodPost, Path: "/api/v1/chat/rooms/{roomId}/read", Operation: readOperation()},
	}
}

// The examples' fixed ids and times.
var (
	exRoomID    = uuid.MustParse("3f1c9a2e-7b4d-4c8e-9a61-2d5e8f0b7c34")
	exRoom2ID   = uuid.MustParse("8d2e4b6a-1c3f-4e5d-8b7a-9c0d1e2f3a4b")
	exTradeID   = uuid.MustParse("5a7b9c1d-2e3f-4a5b-8c6d-7e8f9a0b1c2d")
	exTrade2ID  = uuid.MustParse("6b8c0d2e-3f4a-4b6c-9d7e-8f9a0b1c2d3e")
	exProductID = uuid.MustParse("c4d5e6f7-0819-4a2b-8c3d-4e5f6a7b8c9d")
	exProduct2  = uuid.MustParse("d5e6f708-192a-4b3c-9d4e-5f6a7b8c9d0e")
	exSellerID  = uuid.MustParse("9a4c7e21-5d3b-4f86-b2a9-1e6d8c3f7a52")
	exBuyerID   = uuid.MustParse("0b8f5a2e-3c41-4d7a-9e62-5f1c8a3b7d90")
	exOtherID   = uuid.MustParse("2c9d6b13-4e5a-4f70-a1b2-3c4d5e6f7a81")

	exOpened   = time.Date(2026, 11, 20, 9, 15, 0, 0, time.UTC)
	exFirstAt  = time.Date(2026, 11, 20, 9, 16, 4, 512000000, time.UTC)
	exSecondAt = time.Date(2026, 11, 20, 9, 17, 31, 87000000, time.UTC)
	exThirdAt  = time.Date(2026, 11, 20, 9, 18, 2, 640000000, time.UTC)
	exClosedAt = time.Date(2026, 11, 18, 16, 2, 41, 0, time.UTC)
)

func ptr[T any](v T) *T { return &v }

// exMessages are the example room's three messages.
func exMessages() []chat.Message {
	return []chat.Message{
		{RoomID: exRoomID, ID: 41, SenderID: exBuyerID, SenderType: chat.Buyer, ClientID: "b-7f3a-0041",
			Content: "Is the lens still available?", CreatedAt: exFirstAt},
		{RoomID: exRoomID, ID: 42, SenderID: exSellerID, SenderType: chat.Seller, ClientID: "s-19c2-0042",
			Content: "Yes. Pick-up near Gangnam station works for me.", CreatedAt: exSecondAt},
		{RoomID: exRoomID, ID: 43, SenderID: exBuyerID, SenderType: chat.Buyer, ClientID: "b-7f3a-0043",
			Content: "Great, tomorrow at 7 pm?", CreatedAt: exThirdAt},
	}
}

// exRoom is the example room as its buyer sees it: three messages, the last one theirs,
// the seller's read.
func exRoom() chat.Room {
	return chat.Room{
		ID: exRoomID, TradeID: exTradeID, ProductID: exProductID, ProductName: "Sony FE 35mm F1.8 lens",
		SellerID: exSellerID, SellerNickname: "bobsdeals", BuyerID: exBuyerID, BuyerNickname: "alicek",
		Status: chat.Trading, LastMessageID: 43, LastMessage: ptr("Great, tomorrow at 7 pm?"),
		LastMessageAt: ptr(exThirdAt), CreatedAt: exOpened,
		UnreadCount: ptr[int64](0), LastReadID: ptr[int64](42),
	}
}

// Who may call what, said once for the REST routes.
const (
	restAuth = "Requires an access token in `Authorization: Bearer`. "
	// roomIDNote: the chat routes read their path id with chat.ParseRoomID.
	roomIDNote = "\n\nA `roomId` that is not a UUID is refused with 400 `CH011` (field `roomId`); an unknown room " +
		"is 404 `CH001`."
)

func listOperation() registry.Operation {
	return registry.Operation{
		Summary: "List my chat rooms",
		Description: restAuth + "Lists the rooms of the caller's trades, as buyer or as seller, most recently active " +
			"first (a message, or the room's opening, makes a room active), each with its last message " +
			"(`lastMessage`, a preview of at most 100 characters, and `lastMessageAt`; null before the first), " +
			"the caller's read mark `lastReadId` and `unreadCount`, the messages from the other member after it.\n\n" +
			"Filters combine with AND: `q` matches a part of the product name or of either nickname, in any " +
			"case; `status` keeps rooms in one state. An administrator (MANAGER or MASTER) may name another user " +
			"with `userId` and sees that user's list, read marks and unread counts; anyone else naming another " +
			"user is refused with 403 `C003` (field `userId`); naming oneself is the same as naming no one.\n\n" +
			"Keyset pagination: `size` rooms per page (1 to 100, default 20), then pass the answer's `nextCursor` " +
			"as `cursor` with the same `q`, `status` and `userId`; `hasNext` is false and `nextCursor` absent " +
			"on the last page. A cursor made for another list is 400 `C015`. Query text that is not UTF-8 or holds " +
			"a NUL is 400 `C016`.",
		Query: []registry.Param{
			{Name: "q", Type: "string", Example: "lens",
				Description: "A part of the product name or of either member's nickname, in any case; trimmed, " +
					"at most 100 characters (400 `C015`)."},
			// No enum: any case is accepted ("trading" too), which an enum would deny.
			{Name: "status", Type: "string", Example: string(chat.Trading),
				Description: "Only rooms in this state: `TRADING`, `COMPLETED` or `CANCELLED`, in any case. `TRADING` " +
					"rooms take messages; `COMPLETED` and `CANCELLED` ones, whose trade ended, are read-only. Anything " +
					"else is 400 `C015`."},
			{Name: "userId", Type: "string", Format: "uuid", Example: exBuyerID.String(),
				Description: "Administrators only: list this user's rooms instead of their own. Not a UUID: 400 " +
					"`C015`; another user's id from a non-administrator: 403 `C003`."},
			{Name: "size", Type: "integer", Minimum: ptr(1.0), Maximum: ptr(100.0), Default: 20,
				Description: "Rooms per page, 1 to 100."},
			{Name: "cursor", Type: "string",
				Description: "The `nextCursor` of the previous page, with the same `q`, `status` and `userId`; absent " +
					"for the first page."},
		},
		Errors: []*fault.Error{fault.ErrBadParameter, fault.ErrText, fault.ErrForbidden},
		Answer: reflect.TypeFor[page.Page[chat.Room]](),
		Status: http.StatusOK,
		AnswerExample: page.Page[chat.Room]{
			Content: []chat.Room{
				exRoom(),
				{
					ID: exRoom2ID, TradeID: exTrade2ID, ProductID: exProduct2, ProductName: "Nintendo Switch OLED",
					SellerID: exBuyerID, SellerNickname: "alicek", BuyerID: exOtherID, BuyerNickname: "carol_k",
					Status: chat.Completed, LastMessageID: 7, LastMessage: ptr("Received, thank you!"),
					LastMessageAt: ptr(exClosedAt.Add(-time.Hour)), CreatedAt: exClosedAt.Add(-48 * time.Hour),
					ClosedAt: ptr(exClosedAt), UnreadCount: ptr[int64](1), LastReadID: ptr[int64](6),
				},
			},
			Size:       2,
			NextCursor: "eyJxIjoiRVhBTVBMRS1DVVJTT1IifQ",
			HasNext:    true,
		},
	}
}

func getOperation() registry.Operation {
	return registry.Operation{
		Summary: "Get a chat room",
		Description: restAuth + "The room of a trade, for its buyer and seller and for administrators (MANAGER or " +
			"MASTER); anyone else is refused with 403 `CH002`. A member also gets their read mark `lastReadId` " +
			"and `unreadCount`, the messages from the other member after it; an administrator gets neither. " +
			"`closedAt` is set once the trade ended (`roomStatus` `COMPLETED` or `CANCELLED`)." + roomIDNote,
		Errors:        []*fault.Error{chat.ErrRoomID, chat.ErrRoomNotFound, chat.ErrNotMember},
		Answer:        reflect.TypeFor[chat.Room](),
		Status:        http.StatusOK,
		AnswerExample: exRoom(),
	}
}

func messagesOperation() registry.Operation {
	m := exMessages()
	return registry.Operation{
		Summary: "A page of a room's messages",
		Description: restAuth + "The room's history, for its buyer and seller and for administrators (MANAGER or " +
			"MASTER); anyone else is refused with 403 `CH002`.\n\n" +
			"Up to `limit` messages with ids below `before` (default: from the newest), oldest first within the " +
			"page. Message ids count from 1 within a room, in the order the messages were stored; an id may be " +
			"missing (a retried send that raced its first copy), so read them as ordered, not dense. When older " +
			"messages remain, `hasMore` is true and `nextBefore` (the first id of this page) is the `before` of " +
			"the older page; otherwise `nextBefore` is absent. A `before` or `limit` out of its range is 400 `C015`." +
			roomIDNote,
		Query: []registry.Param{
			{Name: "before", Type: "integer", Minimum: ptr(1.0), Maximum: ptr(float64(int64(1) << 62)), Example: 44,
				Description: "Only messages with ids below this one: the previous page's `nextBefore`; absent for the " +
					"newest page. Not a whole number from 1 to 2^62: 400 `C015`."},
			{Name: "limit", Type: "integer", Minimum: ptr(1.0), Maximum: ptr(200.0), Default: 50,
				Description: "Messages per page, 1 to 200 (400 `C015` otherwise)."},
		},
		Errors: []*fault.Error{chat.ErrRoomID, fault.ErrBadParameter, chat.ErrRoomNotFound, chat.ErrNotMember},
		Answer: reflect.TypeFor[chat.History](),
		Status: http.StatusOK,
		AnswerExample: chat.History{
			Messages:   m[1:],
			NextBefore: ptr[int64](42),
			HasMore:    true,
		},
	}
}

func readOperation() registry.Operation {
	return registry.Operation{
		Summary: "Mark a room read",
		Description: restAuth + "Moves the caller's read mark in the room up to `lastId`: never down, and never past " +
			"the room's last message (a larger `lastId` marks everything read). Only the buyer and the seller " +
			"have a read mark: anyone else, administrators included, is refused with 403 `CH002`. `lastId` is " +
			"required (400 `C001`) and must not be negative (400 `C015`); it may be 0. The room's connections " +
			"(both members', on every replica) receive a `read` frame with the mark. Answers the room with the " +
			"caller's `lastReadId` and `unreadCount` after the move; marking a closed room read is allowed." +
			roomIDNote,
		Body:          reflect.TypeFor[ReadRequest](),
		BodyExample:   ReadRequest{LastID: ptr[int64](43)},
		Errors:        []*fault.Error{chat.ErrRoomID, fault.ErrValidation, fault.ErrBadParameter, chat.ErrRoomNotFound, chat.ErrNotMember},
		Answer:        reflect.TypeFor[chat.Room](),
		Status:        http.StatusOK,
		AnswerExample: func() chat.Room { r := exRoom(); r.LastReadID = ptr[int64](43); return r }(),
	}
}

// wsDescription is the WebSocket's handshake and rules; its error table lists the codes
// of the error frame. The limits are the code's; the defaults, config's (TestReference).
func wsDescription() string {
	return fmt.Sprintf(wsText, readLimit, maxStrikes)
}

const wsText = "The chat WebSocket: one connection per client for all of its rooms. JSON text frames, each with a " +
	"`type`; the frames are listed below, each with its fields.\n\n" +
	"### Handshake\n\n" +
	"A `GET` with the WebSocket upgrade headers (RFC 6455, version 13), answered `101 Switching Protocols`. " +
	"The access token goes in `Authorization: Bearer <token>` or, from a browser (which cannot set headers " +
	"on a WebSocket), as a subprotocol next to the chat's: `Sec-WebSocket-Protocol: market-chat.v1, " +
	"bearer.<token>`. Offer `market-chat.v1`: the server selects it, and only it, so the token is never echoed. A token in the URL " +
	"(`token` or `access_token` in the query, which would end up in logs) is refused with 400 `C015`, whatever " +
	"else is sent. Before switching protocols the server answers, in the error body:\n\n" +
	"| Status | Code | When |\n|---|---|---|\n" +
	"| 400 | `C015` | a `token` or `access_token` query parameter |\n" +
	"| 401 | `C002` | no token, or a token invalid, revoked or expired (past `exp` to the instant: the verifier's clock-skew leeway does not apply) |\n" +
	"| 429 | `CH010` | the user already has `CHAT_MAX_CONNS_PER_USER` (default 5) connections open, across replicas |\n" +
	"| 503 | `C014` | the server is restarting (reconnect, to another replica), or Redis or the token revocations are unreachable |\n\n" +
	"Then the WebSocket library checks the handshake and answers in plain text, not the error body: 426 " +
	"without the upgrade headers, 400 for another version or a bad `Sec-WebSocket-Key`, and 403 when the " +
	"`Origin` header names neither the request's own host nor one of `CORS_ALLOWED_ORIGINS` (exact origins, " +
	"the REST routes' CORS list: scheme and host must match). A client that sends no `Origin` (not a browser) " +
	"passes the origin check.\n\n" +
	"### Rooms\n\n" +
	"`join` a room (its buyer or seller only: an administrator reads over REST) to receive its `message`, " +
	"`read`, `typing` and `closed` frames; the server answers `joined` with the room as the member sees it " +
	"and `lastId`, its last message's id. With `lastId` in the join, every message after it is replayed, in " +
	"order, right after `joined`; without, delivery starts from now. Joining again is allowed (a reconnection " +
	"does it with the last id it saw). `leave` stops delivery; it is answered by nothing, as is `typing` " +
	"(relayed to the other member's connections) and `read` (which moves the read mark up to `lastId`, never " +
	"down nor past the last message, and is relayed with the new mark to every connection in the room, the " +
	"reader's own included). `send`, `read` and `typing` need the room joined on this connection (`CH009`).\n\n" +
	"### Messages, order and retries\n\n" +
	"A `send` carries a `clientId` chosen by the client (1 to 64 bytes, unique per sender and room) and " +
	"`content` (not blank, at most 2,000 characters). The message is stored before anyone sees it, numbered " +
	"within its room, then acknowledged to the sender (`ack`, with the stored message: its `id` and " +
	"`createdAt`) and delivered to every connection that joined the room (`message`, the sender's own " +
	"included, before or after the `ack`). The sender and its side (`senderType`) come from the token, " +
	"whatever the frame says. A room's messages arrive strictly by id, without gaps the server could fill " +
	"(ids are ordered, not dense). A send retried with the same `clientId` stores nothing and is acknowledged " +
	"with the first copy and `duplicate: true`, even after the room closed. So after a lost connection: " +
	"reconnect, join each room with the last id seen, read the replay (own sends stored but never acknowledged " +
	"are among it: a `message` carries its `clientId`) and resend the rest with the same `clientId`s.\n\n" +
	"When the trade ends the room closes (`closed`, with the room's new `status`): sends are refused with " +
	"`CH003`. When the server restarts it sends `reconnect` and closes with 1012.\n\n" +
	"### Refusals and limits\n\n" +
	"Of a client's frame the server reads `type`, `roomId`, `clientId`, `content` and `lastId` and ignores " +
	"the rest, but every string in it (ignored ones and keys included) must be UTF-8 without NUL and without " +
	"half a surrogate pair (`C016`, naming the field). A refused frame is answered by an `error` frame with " +
	"the fault's `code`, `error` (its message) and `field`, and the frame's `roomId` and `clientId` when they " +
	"could be read; nothing of it is acted on and the connection stays open. Every frame that decodes counts against " +
	"`CHAT_MESSAGES_PER_SECOND` (default 5) per second with a burst of `CHAT_BURST` (default 10) (`CH006`); " +
	"%[2]d refused frames in a row (other than `C014` and `C006`) close the connection with 1008. A frame " +
	"over %[1]d bytes closes it with 1009. A client that lets `CHAT_SEND_BUFFER` (default 256) frames pile up " +
	"unread is closed with 4408; it loses nothing and reconnects with its last ids. The server pings every " +
	"`CHAT_PING_INTERVAL` (default 30s); no pong within `CHAT_WRITE_TIMEOUT` (default 5s) closes with 1001.\n\n" +
	"The connection follows its token, sending or not: it is checked on every frame and every second, and " +
	"at the token's `exp`, or within 3 s of its revocation (logout, password change, role change, deletion), " +
	"the server sends an `error` frame `C002` saying which and closes with 4401; nothing of the rooms is " +
	"written after that. While the revocations cannot be read, frames are refused with `C014` and the " +
	"connection stays open.\n\n" +
	"| Code | When an `error` frame carries it |\n|---|---|\n" +
	"| `C002` | the token expired or was revoked: the last frame, before the close 4401 |\n" +
	"| `C006` | the server failed; try again (a retried `send` with the same `clientId` is stored once) |\n" +
	"| `C014` | the token revocations or Redis are unreachable; try again |\n" +
	"| `C015` | `join` or `read` with a negative `lastId`; `read` without `lastId` |\n" +
	"| `C016` | a string in the frame is not UTF-8, holds a NUL or half a surrogate pair (`field` names it) |\n" +
	"| `CH001` | `join` of a room that does not exist |\n" +
	"| `CH002` | `join` by anyone but the room's buyer and seller |\n" +
	"| `CH003` | `send` to a closed room |\n" +
	"| `CH004` | `send` with blank `content` |\n" +
	"| `CH005` | `send` with `content` over 2,000 characters |\n" +
	"| `CH006` | more frames than the rate allows; slow down |\n" +
	"| `CH007` | `send` without `clientId`, or one over 64 bytes |\n" +
	"| `CH008` | a binary frame, a frame that is not JSON, a field of the wrong type (`field` names it), an unknown `type` (`field` `type`) |\n" +
	"| `CH009` | `send`, `read` or `typing` before joining the room on this connection |\n" +
	"| `CH011` | `roomId` missing or not a UUID |\n\n" +
	"Close codes: 1001 (no pong, or a write failed), 1008, 1009, 1012, 4401 and 4408, as above; after any of " +
	"them, reconnect and join with the last ids seen."

func wsOperation() registry.Operation {
	m := exMessages()
	room := exRoom()
	return registry.Operation{
		Summary:     "Open the chat WebSocket",
		Description: wsDescription(),
		Status:      http.StatusSwitchingProtocols,
		// The handshake's faults (C002, C006 and C014 the generator adds), then the codes of
		// the error frame.
		Errors: []*fault.Error{fault.ErrBadParameter, chat.ErrTooManyConns},
		FrameErrors: []*fault.Error{
			fault.ErrUnauthenticated, fault.ErrInternal, fault.ErrUnavailable, fault.ErrBadParameter,
			fault.ErrText, chat.ErrRoomNotFound, chat.ErrNotMember, chat.ErrRoomClosed, chat.ErrEmptyMessage,
			chat.ErrMessageTooLong, chat.ErrFlood, chat.ErrClientID, chat.ErrFrame, chat.ErrNotJoined, chat.ErrRoomID,
		},
		Frames: []registry.Frame{
			{Type: TypeJoin, From: "client", Body: reflect.TypeFor[JoinFrame](),
				Description: "Join a room of one's trade (buyer or seller), answered by `joined`; with `lastId`, the " +
					"messages after it are replayed after `joined`. Refusals: `CH001`, `CH002`, `C015` (negative `lastId`).",
				Example: JoinFrame{Type: TypeJoin, RoomID: exRoomID, LastID: ptr[int64](41)}},
			{Type: TypeLeave, From: "client", Body: reflect.TypeFor[LeaveFrame](),
				Description: "Stop receiving the room; unanswered, and nothing when the room was not joined.",
				Example:     LeaveFrame{Type: TypeLeave, RoomID: exRoomID}},
			{Type: TypeSend, From: "client", Body: reflect.TypeFor[SendFrame](),
				Description: "Send a message to a joined room, answered by `ack`. `clientId` (1 to 64 bytes) makes a " +
					"retry safe; `content` is not blank, at most 2,000 characters. Refusals: `CH009`, `CH007`, " +
					"`CH004`, `CH005`, `CH003`, `C016`.",
				Example: SendFrame{Type: TypeSend, RoomID: exRoomID, ClientID: "b-7f3a-0043", Content: "Great, tomorrow at 7 pm?"}},
			{Type: TypeRead, From: "client", Body: reflect.TypeFor[ReadFrame](),
				Description: "Move one's read mark in a joined room up to `lastId` (never down, never past the last " +
					"message); relayed to the room as a server `read`. Refusals: `CH009`, `C015` (absent or negative).",
				Example: ReadFrame{Type: TypeRead, RoomID: exRoomID, LastID: 42}},
			{Type: TypeTyping, From: "client", Body: reflect.TypeFor[TypingFrame](),
				Description: "Tell the other member one is typing; relayed, unanswered. Refusal: `CH009`.",
				Example:     TypingFrame{Type: TypeTyping, RoomID: exRoomID}},
			{Type: TypeJoined, From: "server", Body: reflect.TypeFor[JoinedFrame](),
				Description: "Answers a `join`: the room as the member sees it (with `lastReadId` and `unreadCount`) " +
					"and `lastId`, its last message's id at the join.",
				Example: JoinedFrame{Type: TypeJoined, RoomID: exRoomID, Room: room, LastID: room.LastMessageID}},
			{Type: TypeMessage, From: "server", Body: reflect.TypeFor[MessageFrame](),
				Description: "A stored message of a joined room, live or replayed, strictly by id within the room; " +
					"the sender's connections receive their own too. `message.clientId` is the sender's.",
				Example: MessageFrame{Type: TypeMessage, RoomID: exRoomID, Message: m[1]}},
			{Type: TypeAck, From: "server", Body: reflect.TypeFor[AckFrame](),
				Description: "Answers a `send` with the stored message (its `id` and `createdAt`); `duplicate` when " +
					"the send was a retry of a stored one, whose first copy it is. May come before or after the " +
					"sender's own `message` frame.",
				Example: AckFrame{Type: TypeAck, RoomID: exRoomID, ClientID: "b-7f3a-0043", Message: m[2]}},
			{Type: TypeRead, From: "server", Body: reflect.TypeFor[ReadNoticeFrame](),
				Description: "A member's read mark moved (by a `read` frame or `POST .../read`): `userId` has read up " +
					"to `lastId`. Sent to every connection in the room, the reader's own included.",
				Example: ReadNoticeFrame{Type: TypeRead, RoomID: exRoomID, UserID: exSellerID, LastID: 43}},
			{Type: TypeTyping, From: "server", Body: reflect.TypeFor[TypingNoticeFrame](),
				Description: "The other member (`userId`) is typing; never sent to the typist's own connections.",
				Example:     TypingNoticeFrame{Type: TypeTyping, RoomID: exRoomID, UserID: exSellerID}},
			{Type: TypeClosed, From: "server", Body: reflect.TypeFor[ClosedFrame](),
				Description: "The room's trade ended (`status` `COMPLETED` or `CANCELLED`): the room is read-only and " +
					"sends are refused with `CH003`.",
				Example: ClosedFrame{Type: TypeClosed, RoomID: exRoomID, Status: chat.Completed}},
			{Type: TypeError, From: "server", Body: reflect.TypeFor[ErrorFrame](),
				Description: "Refuses a frame (see the table of codes), or says why the session ends (`C002`, then " +
					"the close 4401). `roomId` and `clientId` are those of the refused frame, when they could be read; " +
					"`field` names the field at fault, when there is one.",
				Example: ErrorFrame{Type: TypeError, Code: chat.ErrNotJoined.Code, Error: chat.ErrNotJoined.Message,
					RoomID: ptr(exRoomID), ClientID: "b-7f3a-0044"}},
			{Type: TypeReconnect, From: "server", Body: reflect.TypeFor[ReconnectFrame](),
				Description: "The server is restarting: the close 1012 follows. Reconnect (another replica answers) " +
					"and join with the last ids seen.",
				Example: ReconnectFrame{Type: TypeReconnect, Error: reconnectText}},
		},
		CloseCodes: map[int]string{
			int(websocket.StatusGoingAway):       "going away: the client answered no ping within CHAT_WRITE_TIMEOUT, or a write to it failed",
			int(websocket.StatusPolicyViolation): fmt.Sprintf("policy violation: %d refused frames in a row", maxStrikes),
			int(websocket.StatusMessageTooBig):   fmt.Sprintf("message too big: a frame over %d bytes", readLimit),
			int(websocket.StatusServiceRestart):  "service restart: the server is draining (after a reconnect frame); reconnect and join with the last ids seen",
			int(CloseTokenInvalid):               "the access token expired or was revoked (after an error frame C002); reconnect with a new one",
			int(CloseTooSlow):                    "the client read too slowly; reconnect with the last ids seen, nothing is lost",
		},
	}
}

// reconnectText is the reconnect frame's error, as Shutdown sends it.
const reconnectText = "server restarting; reconnect with your last ids"
