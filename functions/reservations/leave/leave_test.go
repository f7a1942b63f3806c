package leave_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/devstack/stacktest"
	"github.com/8949market/market/shared/reservations"
	rt "github.com/8949market/market/shared/reservations/reservationtest"
)

func leave(t *testing.T, st *stacktest.Stack, id uuid.UUID, token string) stacktest.Response {
	t.Helper()
	return st.Do(t, "DELETE", "/api/v1/reservations/"+id.String()+"/application", nil, token)
}

func place(t *testing.T, st *stacktest.Stack, id uuid.UUID, u rt.User) (string, int64, int64) {
	t.Helper()
	d := rt.MustGet(t, st, id, u.Token)
	if d.MyApplication == nil {
		t.Fatalf("%s has no application: %+v", u.Nickname, d)
	}
	return d.MyApplication.Status, d.MyApplication.Place, d.QueueLength
}

// A buyer and four in line: those who leave drop out, the places behind them move up,
// and the next buyer is the first who stayed.
func TestLeave(t *testing.T) {
	t.Parallel()
	st := stacktest.Start(t)
	deal := rt.Open(t, st, -time.Second, time.Hour)
	users := rt.Users(t, st, 5)
	buyer, b, c, d, e := users[0], users[1], users[2], users[3], users[4]
	rt.Queue(t, st, deal.ID, users...)

	if s, p, n := place(t, st, deal.ID, e); s != "WAITING" || p != 4 || n != 4 {
		t.Fatalf("last in line: %s at %d of %d", s, p, n)
	}

	// B (place 1) leaves: everyone behind moves up one.
	res := leave(t, st, deal.ID, b.Token)
	if res.Status != http.StatusOK {
		t.Fatalf("leave: %d %s", res.Status, res.Body)
	}
	var left reservations.Detail
	res.Data(t, &left)
	if left.MyApplication == nil || left.MyApplication.Status != "LEFT" || left.MyApplication.Place != 0 || left.QueueLength != 3 ||
		left.Buyer != nil || left.PaymentDeadline != nil {
		t.Fatalf("answer to the leaver: %+v", left)
	}
	for i, u := range []rt.User{c, d, e} {
		if s, p, n := place(t, st, deal.ID, u); s != "WAITING" || p != int64(i+1) || n != 3 {
			t.Fatalf("after B left, %s: %s at %d of %d; want WAITING at %d of 3", u.Nickname, s, p, n, i+1)
		}
	}

	// D (now place 2) leaves: E moves from 3 to 2, C stays first.
	if res := leave(t, st, deal.ID, d.Token); res.Status != http.StatusOK {
		t.Fatalf("leave: %d %s", res.Status, res.Body)
	}
	if s, p, _ := place(t, st, deal.ID, c); s != "WAITING" || p != 1 {
		t.Fatalf("C: %s at %d", s, p)
	}
	if s, p, n := place(t, st, deal.ID, e); s != "WAITING" || p != 2 || n != 2 {
		t.Fatalf("E: %s at %d of %d", s, p, n)
	}

	t.Run("refusals", func(t *testing.T) {
		stranger := rt.NewUser(t, st, auth.RoleUser)
		admin := rt.NewUser(t, st, auth.RoleMaster)
		cases := []struct {
			name   string
			id     string
			token  string
			status int
			code   string
		}{
			{"leaving again", deal.ID.String(), b.Token, http.StatusConflict, "R003"},
			{"the buyer cannot leave, only cancel", deal.ID.String(), buyer.Token, http.StatusConflict, "R003"},
			{"the seller has no place", deal.ID.String(), deal.Seller.Token, http.StatusConflict, "R003"},
			{"never applied", deal.ID.String(), stranger.Token, http.StatusConflict, "R003"},
			{"an admin has no place either", deal.ID.String(), admin.Token, http.StatusConflict, "R003"},
			{"unknown reservation", uuid.NewString(), c.Token, http.StatusNotFound, "R006"},
			{"malformed id", "not-a-uuid", c.Token, http.StatusBadRequest, "C015"},
			{"no token", deal.ID.String(), "", http.StatusUnauthorized, "C002"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				st.Do(t, "DELETE", "/api/v1/reservations/"+tc.id+"/application", nil, tc.token).Refused(t, tc.status, tc.code)
			})
		}
	})

	// Refusals changed nothing: the buyer is still the buyer, two wait.
	row := rt.Read(t, st, deal.ID)
	if row.Status != "PENDING" || row.BuyerID == nil || *row.BuyerID != buyer.UserID {
		t.Fatalf("reservation after refusals: %+v", row)
	}
	apps := rt.Applications(t, st, deal.ID)
	want := map[uuid.UUID]string{buyer.UserID: "SELECTED", b.UserID: "LEFT", c.UserID: "WAITING", d.UserID: "LEFT", e.UserID: "WAITING"}
	for u, s := range want {
		if apps[u] != s {
			t.Fatalf("applications %v, want %v", apps, want)
		}
	}

	// The buyer cancels: C, the first who stayed, is the buyer; E is first in line.
	got := rt.MustAct(t, st, deal.ID, "cancel/buyer", rt.Reason("no longer needed"), buyer.Token)
	if got.Status != reservations.Pending || got.Buyer != nil || got.MyApplication == nil || got.MyApplication.Status != "CANCELLED" {
		t.Fatalf("answer to the cancelling buyer: %+v", got)
	}
	if row := rt.Read(t, st, deal.ID); row.BuyerID == nil || *row.BuyerID != c.UserID {
		t.Fatalf("next buyer %v, want C %s", row.BuyerID, c.UserID)
	}
	if s, p, n := place(t, st, deal.ID, e); s != "WAITING" || p != 1 || n != 1 {
		t.Fatalf("E: %s at %d of %d", s, p, n)
	}

	// Those who left cannot come back into the line.
	for _, u := range []rt.User{b, d} {
		res, _ := rt.Apply(t, st, deal.ID, u.Token)
		res.Refused(t, http.StatusConflict, "R008")
	}
}

// The last applicant in line leaves: nobody waits, and a newcomer queues at place 1.
func TestLeaveLastInLine(t *testing.T) {
	t.Parallel()
	st := stacktest.Start(t)
	deal := rt.Open(t, st, -time.Second, time.Hour)
	users := rt.Users(t, st, 2)
	rt.Queue(t, st, deal.ID, users...)
	if res := leave(t, st, deal.ID, users[1].Token); res.Status != http.StatusOK {
		t.Fatalf("leave: %d %s", res.Status, res.Body)
	}
	if d := rt.MustGet(t, st, deal.ID, deal.Seller.Token); d.QueueLength != 0 || d.Status != reservations.Pending {
		t.Fatalf("after the only one in line left: %+v", d)
	}
	newcomer := rt.NewUser(t, st, auth.RoleUser)
	if app := rt.MustApply(t, st, deal.ID, newcomer.Token); app.Status != "WAITING" || app.Position != 1 {
		t.Fatalf("newcomer: %+v, want WAITING at place 1", app)
	}
}
