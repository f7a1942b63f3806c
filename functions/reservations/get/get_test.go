package get_test

import (
	"bytes"
	"net/http"
	"testing"

	"github.com/google/uuid"

	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/devstack/stacktest"
	"github.com/8949market/market/shared/reservations"
	rt "github.com/8949market/market/shared/reservations/reservationtest"
)

// A reservation listed through the products API, with a buyer and two applicants in
// line, read by everyone who may and may not see it.
func TestGetAccess(t *testing.T) {
	t.Parallel()
	st := stacktest.Start(t)
	deal := rt.Listed(t, st, "Walnut desk")
	applicants := rt.Users(t, st, 3)
	buyer, first, second := applicants[0], applicants[1], applicants[2]
	rt.Queue(t, st, deal.ID, applicants...)
	manager := rt.NewUser(t, st, auth.RoleManager)
	master := rt.NewUser(t, st, auth.RoleMaster)
	stranger := rt.NewUser(t, st, auth.RoleUser)

	allowed := []struct {
		name   string
		who    rt.User
		party  bool   // sees the buyer and the payment deadline
		status string // own application, "" for none
		place  int64
	}{
		{"seller", deal.Seller, true, "", 0},
		{"buyer", buyer, true, "SELECTED", 0},
		{"first in line", first, false, "WAITING", 1},
		{"second in line", second, false, "WAITING", 2},
		{"manager", manager, true, "", 0},
		{"master", master, true, "", 0},
	}
	for _, tc := range allowed {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res := rt.Get(t, st, deal.ID, tc.who.Token)
			if res.Status != http.StatusOK {
				t.Fatalf("status %d: %s", res.Status, res.Body)
			}
			var d reservations.Detail
			res.Data(t, &d)
			if d.ReservationID != deal.ID || d.ProductID != deal.ProductID || d.Status != "PENDING" ||
				d.ProductName != "Walnut desk" || d.Price != 5000 || d.Seller.UserID != deal.Seller.UserID ||
				d.Seller.Nickname != deal.Seller.Nickname || d.QueueLength != 2 {
				t.Fatalf("detail %+v", d)
			}
			if tc.party {
				if d.Buyer == nil || d.Buyer.UserID != buyer.UserID || d.Buyer.Nickname != buyer.Nickname || d.PaymentDeadline == nil {
					t.Fatalf("a party sees buyer %+v, deadline %v; want %s and a deadline", d.Buyer, d.PaymentDeadline, buyer.UserID)
				}
			} else {
				if d.Buyer != nil || d.PaymentDeadline != nil {
					t.Fatalf("an applicant in line sees buyer %+v, deadline %v", d.Buyer, d.PaymentDeadline)
				}
				for _, secret := range []string{buyer.UserID.String(), buyer.Nickname, first.UserID.String(), second.UserID.String()} {
					if secret != tc.who.UserID.String() && bytes.Contains(res.Body, []byte(secret)) {
						t.Fatalf("an applicant in line sees %q: %s", secret, res.Body)
					}
				}
			}
			switch {
			case tc.status == "" && d.MyApplication != nil:
				t.Fatalf("myApplication %+v, want none", d.MyApplication)
			case tc.status != "" && (d.MyApplication == nil || d.MyApplication.Status != tc.status || d.MyApplication.Place != tc.place):
				t.Fatalf("myApplication %+v, want %s at place %d", d.MyApplication, tc.status, tc.place)
			}
		})
	}

	t.Run("stranger", func(t *testing.T) {
		t.Parallel()
		res := rt.Get(t, st, deal.ID, stranger.Token)
		res.Refused(t, http.StatusForbidden, "R005")
		for _, secret := range []string{"Walnut desk", buyer.UserID.String(), deal.Seller.UserID.String()} {
			if bytes.Contains(res.Body, []byte(secret)) {
				t.Fatalf("the refusal shows %q: %s", secret, res.Body)
			}
		}
	})

	// The original cached the detail ahead of the access check: whoever read it next got
	// it. A stranger right after each party is still refused.
	t.Run("no cache ahead of the check", func(t *testing.T) {
		t.Parallel()
		for range 10 {
			for _, party := range []rt.User{deal.Seller, buyer, first, manager} {
				if res := rt.Get(t, st, deal.ID, party.Token); res.Status != http.StatusOK {
					t.Fatalf("party: status %d: %s", res.Status, res.Body)
				}
				rt.Get(t, st, deal.ID, stranger.Token).Refused(t, http.StatusForbidden, "R005")
			}
		}
	})

	t.Run("refusals", func(t *testing.T) {
		t.Parallel()
		cases := []struct {
			name, path, token string
			status            int
			code              string
		}{
			{"no token", "/api/v1/reservations/" + deal.ID.String(), "", http.StatusUnauthorized, "C002"},
			{"bad token", "/api/v1/reservations/" + deal.ID.String(), "not-a-jwt", http.StatusUnauthorized, "C002"},
			{"malformed id", "/api/v1/reservations/not-a-uuid", stranger.Token, http.StatusBadRequest, "C015"},
			{"unknown id", "/api/v1/reservations/" + uuid.NewString(), stranger.Token, http.StatusNotFound, "R006"},
			{"unknown id as admin", "/api/v1/reservations/" + uuid.NewString(), manager.Token, http.StatusNotFound, "R006"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				st.Do(t, "GET", tc.path, nil, tc.token).Refused(t, tc.status, tc.code)
			})
		}
	})
}
