package auth_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/8949market/market/shared/auth"
)

// Optional passes a request without a token through with no identity, one with a valid
// token with its identity, and refuses one whose token is not valid (signup: a token sent
// is what allows creating an administrator, so a bad one is never ignored).
func TestOptional(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	who := auth.Identity{UserID: uuid.New(), Username: "alice", Role: auth.RoleMaster}
	tok, _, err := f.signer.Access(who, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	serve := func(authorization string) (int, *auth.Identity) {
		var seen *auth.Identity
		h := f.v.Optional(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if id, ok := auth.FromContext(r.Context()); ok {
				seen = &id
			}
			w.WriteHeader(http.StatusNoContent)
		}))
		req := httptest.NewRequestWithContext(context.Background(), http.MethodPost, "/signup", nil)
		if authorization != "" {
			req.Header.Set("Authorization", authorization)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code, seen
	}
	for _, none := range []string{"", "Bearer ", "Basic " + tok} {
		if code, seen := serve(none); code != http.StatusNoContent || seen != nil {
			t.Errorf("Authorization %q: status %d, identity %v; want through without one", none, code, seen)
		}
	}
	if code, seen := serve("Bearer " + tok); code != http.StatusNoContent || seen == nil || seen.UserID != who.UserID || seen.Role != auth.RoleMaster {
		t.Errorf("valid token: status %d, identity %+v", code, seen)
	}
	if code, seen := serve("Bearer " + tok[:len(tok)-4] + "AAAA"); code != http.StatusUnauthorized || seen != nil {
		t.Errorf("forged token: status %d, identity %v; want 401 and no call", code, seen)
	}
}
