package chatserver_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"

	chatserver "github.com/8949market/market/chat-server"
	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/chat/chattest"
	"github.com/8949market/market/shared/devstack/stacktest"
)

// A connection follows its token whether or not it sends: one that only listens is closed
// with 4401, after an error frame C002, at its token's expiry instant, and within
// RevocationDelay of a logout, a password change, a role change or the account's deletion.
// It receives nothing of the room after that, and the token opens no new connection.
func TestListenerFollowsToken(t *testing.T) {
	t.Parallel()
	st := stacktest.Start(t)
	// slack allows for a loaded test machine beyond the documented bound.
	const slack = 2 * time.Second

	cases := []struct {
		name string
		// revoke ends the listener's token.
		revoke func(t *testing.T, u stacktest.User)
		// ttl, when set, gives the listener a token of its own that expires after it.
		ttl time.Duration
	}{
		{name: "logout", revoke: func(t *testing.T, u stacktest.User) {
			expect(t, st.Do(t, "POST", "/api/v1/auth/logout", nil, u.Access), http.StatusNoContent)
		}},
		{name: "password change", revoke: func(t *testing.T, u stacktest.User) {
			expect(t, st.Do(t, "PATCH", "/api/v1/users/me", map[string]string{"password": "N3w!" + uuid.NewString()[:12]}, u.Access), http.StatusOK)
		}},
		{name: "role change", revoke: func(t *testing.T, u stacktest.User) {
			admin := st.Admin(t)
			expect(t, st.Do(t, "PATCH", "/api/v1/users/"+u.ID.String(), map[string]string{"userRole": string(auth.RoleManager)}, admin.Access), http.StatusOK)
		}},
		{name: "deletion", revoke: func(t *testing.T, u stacktest.User) {
			expect(t, st.Do(t, "DELETE", "/api/v1/users/"+u.ID.String(), nil, u.Access), http.StatusOK)
		}},
		{name: "expiry", ttl: 3 * time.Second},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			u := st.NewUser(t, auth.RoleUser)
			listener := chattest.MemberOf(t, st, u.Access)
			if tc.ttl > 0 {
				token, who, err := st.Signer.Access(listener.Identity, tc.ttl)
				if err != nil {
					t.Fatal(err)
				}
				listener = chattest.Member{Token: token, Identity: who}
			}
			room := chattest.OpenBetween(t, st, listener, chattest.NewMember(t, st, auth.RoleUser))
			ears := chattest.Dial(t, st.ChatURL, listener.Token)
			ears.Join(room.ID, nil)
			seller := chattest.Dial(t, st.ChatURL, room.Seller.Token)
			seller.Join(room.ID, nil)
			seller.Send(room.ID, "s1", "still interested?")
			ears.ExpectMessage(room.ID, 1)

			// The close must come within bound of since: the revocation, or the expiry
			// instant itself.
			since, bound := listener.ExpiresAt, time.Duration(0)
			if tc.revoke != nil {
				tc.revoke(t, u)
				since, bound = time.Now(), chatserver.RevocationDelay
			}
			e := ears.ExpectError("C002")
			closed := time.Now()
			if code := ears.Closed(); code != chatserver.CloseTokenInvalid {
				t.Fatalf("closed with %d, want %d", code, chatserver.CloseTokenInvalid)
			}
			took := closed.Sub(since)
			if took < 0 && tc.revoke == nil {
				t.Fatalf("closed %s before the token's expiry", -took)
			}
			if took > bound+slack {
				t.Fatalf("closed %s after the %s, bound %s (error frame %+v)", took, tc.name, bound, e)
			}
			t.Logf("closed %s after the %s (bound %s)", took.Round(time.Millisecond), tc.name, bound)

			// The room goes on without the listener, which hears none of it.
			ack := seller.Send(room.ID, "s2", "anyone there?")
			seller.ExpectMessage(room.ID, 1)
			seller.ExpectMessage(room.ID, ack.Message.ID)
			if rest := ears.Buffered(); len(rest) > 0 {
				t.Fatalf("after the close the listener got %+v", rest)
			}
			chattest.Refused(t, chattest.WSURL(st.ChatURL), chattest.Bearer(listener.Token), nil, http.StatusUnauthorized, "C002")
		})
	}
}

func expect(t *testing.T, res stacktest.Response, status int) {
	t.Helper()
	if res.Status != status {
		t.Fatalf("status %d, want %d: %s", res.Status, status, res.Body)
	}
}

// A token whose exp has passed opens no connection, even within the clock skew the
// verifier allows elsewhere.
func TestExpiredWithinLeewayRefused(t *testing.T) {
	t.Parallel()
	st := stacktest.Start(t)
	m := chattest.NewMember(t, st, auth.RoleUser)
	token, _, err := st.Signer.Access(m.Identity, -time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Kit.Verifier.Verify(context.Background(), token); err != nil {
		t.Fatalf("the verifier refuses a token %s past exp (%v): the test needs one within its leeway", time.Second, err)
	}
	chattest.Refused(t, chattest.WSURL(st.ChatURL), chattest.Bearer(token), nil, http.StatusUnauthorized, "C002")
}
