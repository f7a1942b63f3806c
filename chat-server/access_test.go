package chatserver_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	chatserver "github.com/8949market/market/chat-server"
	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/chat/chattest"
	"github.com/8949market/market/shared/config"
	"github.com/8949market/market/shared/devstack/stacktest"
	"github.com/8949market/market/shared/testenv"
)

// The handshake takes the access token from the Authorization header or the subprotocol
// "bearer.<token>", and nowhere else: a missing, malformed, foreign or expired token is
// 401, a token in the URL (which ends up in logs) is 400 even next to a valid header.
func TestHandshakeAuthentication(t *testing.T) {
	t.Parallel()
	st := stacktest.Start(t)
	token, who := st.Token(t, auth.RoleUser)
	foreign, _, err := auth.NewSigner(testenv.Key(t)).Access(who, 15*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	expired, _, err := st.Signer.Access(who, -time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	ws := chattest.WSURL(st.ChatURL)

	refusals := []struct {
		name         string
		url          string
		header       http.Header
		subprotocols []string
		status       int
		code         string
	}{
		{"no token", ws, nil, []string{chatserver.Subprotocol}, http.StatusUnauthorized, "C002"},
		{"not a bearer", ws, http.Header{"Authorization": {"Basic " + token}}, nil, http.StatusUnauthorized, "C002"},
		{"garbage", ws, chattest.Bearer("not.a.token"), nil, http.StatusUnauthorized, "C002"},
		{"signed by another key", ws, chattest.Bearer(foreign), nil, http.StatusUnauthorized, "C002"},
		{"expired", ws, chattest.Bearer(expired), nil, http.StatusUnauthorized, "C002"},
		{"garbage subprotocol token", ws, nil, []string{chatserver.Subprotocol, "bearer.nonsense"}, http.StatusUnauthorized, "C002"},
		{"token in the query", ws + "?" + url.Values{"token": {token}}.Encode(), nil, nil, http.StatusBadRequest, "C015"},
		{"access_token in the query beside a valid header", ws + "?" + url.Values{"access_token": {token}}.Encode(),
			chattest.Bearer(token), nil, http.StatusBadRequest, "C015"},
	}
	for _, tc := range refusals {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			chattest.Refused(t, tc.url, tc.header, tc.subprotocols, tc.status, tc.code)
		})
	}

	// A browser offers the token as a subprotocol; the server answers with the protocol's
	// own name and never echoes the token.
	t.Run("token as a subprotocol", func(t *testing.T) {
		t.Parallel()
		room := chattest.Open(t, st)
		c := chattest.DialWith(t, st.ChatURL, nil, []string{chatserver.Subprotocol, "bearer." + room.Buyer.Token})
		if got := c.Subprotocol(); got != chatserver.Subprotocol {
			t.Fatalf("subprotocol %q, want %q", got, chatserver.Subprotocol)
		}
		if got := c.Handshake().Header.Values("Sec-WebSocket-Protocol"); len(got) != 1 || got[0] != chatserver.Subprotocol {
			t.Fatalf("Sec-WebSocket-Protocol %q, want %q only", got, chatserver.Subprotocol)
		}
		for name, values := range c.Handshake().Header {
			if strings.Contains(strings.Join(values, " "), room.Buyer.Token) {
				t.Fatalf("the handshake echoes the token in %s", name)
			}
		}
		c.Join(room.ID, nil)
		if ack := c.Send(room.ID, "s1", "from a browser"); ack.Message.SenderID != room.Buyer.UserID {
			t.Fatalf("ack %+v", ack.Message)
		}
	})
}

// A revoked (logged-out) token opens no connection, and a connection whose token is
// revoked while it is open is closed with 4401 at its next frame, after an error frame.
func TestRevokedToken(t *testing.T) {
	t.Parallel()
	st := stacktest.Start(t)
	deny := func(t *testing.T, who auth.Identity) {
		t.Helper()
		if err := st.Kit.Denylist.DenyToken(context.Background(), who.TokenID, who.ExpiresAt); err != nil {
			t.Fatal(err)
		}
	}

	t.Run("at the handshake", func(t *testing.T) {
		t.Parallel()
		m := chattest.NewMember(t, st, auth.RoleUser)
		chattest.Dial(t, st.ChatURL, m.Token).Close()
		deny(t, m.Identity)
		// The denylist may reach the verifier through a mirror: poll until it refuses.
		testenv.Eventually(t, chattest.Wait, "revoked token refused", func() bool {
			c, res, err := chattest.TryDial(context.Background(), chattest.WSURL(st.ChatURL), chattest.Bearer(m.Token), nil)
			if err == nil {
				c.Close()
				return false
			}
			return res != nil && res.StatusCode == http.StatusUnauthorized
		})
		chattest.Refused(t, chattest.WSURL(st.ChatURL), chattest.Bearer(m.Token), nil, http.StatusUnauthorized, "C002")
	})
	t.Run("while connected", func(t *testing.T) {
		t.Parallel()
		room := chattest.Open(t, st)
		c := chattest.Dial(t, st.ChatURL, room.Buyer.Token)
		c.Join(room.ID, nil)
		deny(t, room.Buyer.Identity)
		// Each probe is a join: answered while the token still passes, refused once the
		// revocation has reached the verifier. Paced within the frame rate.
		deadline := time.Now().Add(chattest.Wait)
		for {
			c.Write(chatserver.Frame{Type: chatserver.TypeJoin, RoomID: &room.ID})
			f := c.Next()
			if f.Type == chatserver.TypeError {
				if f.Code != "C002" {
					t.Fatalf("error frame %+v, want C002", f)
				}
				break
			}
			if f.Type != chatserver.TypeJoined || time.Now().After(deadline) {
				t.Fatalf("frame %+v after the revocation", f)
			}
			time.Sleep(250 * time.Millisecond)
		}
		if code := c.Closed(); code != chatserver.CloseTokenInvalid {
			t.Fatalf("closed with %d, want %d", code, chatserver.CloseTokenInvalid)
		}
		if n := len(chattest.Stored(t, st, room.ID)); n != 0 {
			t.Fatalf("%d messages stored", n)
		}
	})
}

// A user may hold CHAT_MAX_CONNS_PER_USER connections, counted across replicas: one more
// is 429 CH010 on either replica, other users are not affected, and closing one frees a
// slot.
func TestConnectionsPerUser(t *testing.T) {
	t.Parallel()
	st := chattest.Start(t, func(cfg *config.Config) { cfg.ChatMaxConnsPerUser = 3 })
	other := chattest.StartReplica(t, st)
	m := chattest.NewMember(t, st, auth.RoleUser)
	open := []*chattest.Client{
		chattest.Dial(t, st.ChatURL, m.Token),
		chattest.Dial(t, other.URL, m.Token),
		chattest.Dial(t, st.ChatURL, m.Token),
	}
	for _, base := range []string{st.ChatURL, other.URL} {
		chattest.Refused(t, chattest.WSURL(base), chattest.Bearer(m.Token), nil, http.StatusTooManyRequests, "CH010")
	}
	chattest.Dial(t, st.ChatURL, chattest.NewMember(t, st, auth.RoleUser).Token)

	open[1].Close()
	testenv.Eventually(t, chattest.Wait, "a slot freed by a closed connection", func() bool {
		c, _, err := chattest.TryDial(context.Background(), chattest.WSURL(other.URL), chattest.Bearer(m.Token), nil)
		if err != nil {
			return false
		}
		open[1] = c
		return true
	})
	t.Cleanup(func() { open[1].Close() })
	// The replacement counts like the others.
	chattest.Refused(t, chattest.WSURL(st.ChatURL), chattest.Bearer(m.Token), nil, http.StatusTooManyRequests, "CH010")
	// The slots are the user's, not the token's: a new token is refused as well.
	fresh, _, err := st.Signer.Access(m.Identity, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	chattest.Refused(t, chattest.WSURL(st.ChatURL), chattest.Bearer(fresh), nil, http.StatusTooManyRequests, "CH010")
}

// Only the buyer and the seller talk in a room. A stranger is refused at join (CH002) and
// cannot send; an administrator is refused at join too, but reads the room and its
// history over REST, which a stranger cannot; neither moves a read mark.
func TestOnlyMembersTalk(t *testing.T) {
	t.Parallel()
	st := stacktest.Start(t)
	room := chattest.Open(t, st)
	buyer := chattest.Dial(t, st.ChatURL, room.Buyer.Token)
	buyer.Join(room.ID, nil)
	buyer.Send(room.ID, "b1", "hello seller")

	stranger := chattest.NewMember(t, st, auth.RoleUser)
	manager := chattest.NewMember(t, st, auth.RoleManager)
	master := chattest.NewMember(t, st, auth.RoleMaster)
	for name, m := range map[string]chattest.Member{"stranger": stranger, "manager": manager, "master": master} {
		t.Run(name+" refused at join", func(t *testing.T) {
			t.Parallel()
			c := chattest.Dial(t, st.ChatURL, m.Token)
			c.Write(chatserver.Frame{Type: chatserver.TypeJoin, RoomID: &room.ID, LastID: chattest.Ptr[int64](0)})
			if e := c.ExpectError("CH002"); e.RoomID == nil || *e.RoomID != room.ID {
				t.Fatalf("error frame %+v, want it to name the room", e)
			}
			// Not joined, so no send, typing or read either; and the history was not replayed.
			c.Write(chatserver.Frame{Type: chatserver.TypeSend, RoomID: &room.ID, ClientID: "x", Content: "let me in"})
			c.ExpectError("CH009")
			c.Write(chatserver.Frame{Type: chatserver.TypeTyping, RoomID: &room.ID})
			c.ExpectError("CH009")
			c.Write(chatserver.Frame{Type: chatserver.TypeRead, RoomID: &room.ID, LastID: chattest.Ptr[int64](1)})
			c.ExpectError("CH009")
			if n := len(chattest.Stored(t, st, room.ID)); n != 1 {
				t.Fatalf("%d messages stored, want 1", n)
			}
		})
	}
	t.Run("stranger over REST", func(t *testing.T) {
		t.Parallel()
		chattest.GetRoom(t, st, stranger.Token, room.ID.String()).Refused(t, http.StatusForbidden, "CH002")
		chattest.History(t, st, stranger.Token, room.ID.String(), nil).Refused(t, http.StatusForbidden, "CH002")
		chattest.MarkRead(t, st, stranger.Token, room.ID.String(), map[string]int64{"lastId": 1}).Refused(t, http.StatusForbidden, "CH002")
		if p := chattest.MustListRooms(t, st, stranger.Token, nil); len(p.Content) != 0 {
			t.Fatalf("a stranger lists %+v", p.Content)
		}
	})
	t.Run("administrators over REST", func(t *testing.T) {
		t.Parallel()
		for _, admin := range []chattest.Member{manager, master} {
			r := chattest.MustGetRoom(t, st, admin.Token, room.ID)
			if r.ID != room.ID || r.LastMessageID != 1 || r.UnreadCount != nil || r.LastReadID != nil {
				t.Fatalf("%s reads %+v", admin.Role, r)
			}
			h := chattest.MustHistory(t, st, admin.Token, room.ID, nil)
			if len(h.Messages) != 1 || h.Messages[0].Content != "hello seller" {
				t.Fatalf("%s reads history %+v", admin.Role, h)
			}
			chattest.MarkRead(t, st, admin.Token, room.ID.String(), map[string]int64{"lastId": 1}).Refused(t, http.StatusForbidden, "CH002")
		}
	})
	t.Run("no token over REST", func(t *testing.T) {
		t.Parallel()
		chattest.GetRoom(t, st, "", room.ID.String()).Refused(t, http.StatusUnauthorized, "C002")
		chattest.ListRooms(t, st, "", nil).Refused(t, http.StatusUnauthorized, "C002")
	})
}
