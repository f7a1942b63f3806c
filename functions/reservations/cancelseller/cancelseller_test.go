package cancelseller_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/devstack/stacktest"
	"github.com/8949market/market/shared/events"
	"github.com/8949market/market/shared/reservations"
	rt "github.com/8949market/market/shared/reservations/reservationtest"
)

// The seller (or an administrator) ends the deal before its trade, from each state that
// allows it: every application is cancelled and reservation-cancelled tells the product.
func TestCancelBySeller(t *testing.T) {
	t.Parallel()
	st := stacktest.Start(t)
	admin := rt.NewUser(t, st, auth.RoleManager)

	cases := []struct {
		name       string
		applicants int
		paid       bool
		by         func(d rt.Deal) rt.User
		from       string
	}{
		{"available, nobody applied", 0, false, func(d rt.Deal) rt.User { return d.Seller }, "AVAILABLE"},
		{"pending with a queue", 3, false, func(d rt.Deal) rt.User { return d.Seller }, "PENDING"},
		{"paid with a queue", 2, true, func(d rt.Deal) rt.User { return d.Seller }, "PAID"},
		{"pending, by an admin", 2, false, func(rt.Deal) rt.User { return admin }, "PENDING"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			deal := rt.Open(t, st, -time.Second, time.Hour)
			users := rt.Users(t, st, tc.applicants)
			rt.Queue(t, st, deal.ID, users...)
			if tc.paid {
				rt.MustAct(t, st, deal.ID, "paymentconfirm", nil, admin.Token)
			}
			before := rt.Read(t, st, deal.ID)
			who := tc.by(deal)

			got := rt.MustAct(t, st, deal.ID, "cancel/seller", rt.Reason("sold it elsewhere"), who.Token)
			if got.Status != reservations.Cancelled || got.Buyer != nil || got.PaymentDeadline != nil || got.QueueLength != 0 {
				t.Fatalf("answer %+v", got)
			}
			row := rt.Read(t, st, deal.ID)
			if row.Status != "CANCELLED" || row.BuyerID != nil || row.BuyerPosition != nil || row.Version != before.Version+1 {
				t.Fatalf("stored %+v", row)
			}
			apps := rt.Applications(t, st, deal.ID)
			if len(apps) != tc.applicants {
				t.Fatalf("%d applications, want %d", len(apps), tc.applicants)
			}
			for u, s := range apps {
				if s != "CANCELLED" {
					t.Fatalf("application of %s is %s", u, s)
				}
			}
			h := rt.History(t, st, deal.ID)
			last := h[len(h)-1]
			if last.From != tc.from || last.To != "CANCELLED" || last.ChangedBy == nil || *last.ChangedBy != who.UserID ||
				!strings.Contains(last.Comment, "sold it elsewhere") {
				t.Fatalf("history %+v", h)
			}
			evs := rt.Events(t, st, deal.ID)
			e := evs[len(evs)-1]
			if e.Topic != events.ReservationCancelled || e.Data.Status != "CANCELLED" || e.Data.Version != row.Version ||
				e.Data.BuyerID != nil || !strings.Contains(e.Data.Reason, "sold it elsewhere") {
				t.Fatalf("last event %s %+v", e.Topic, e.Data)
			}
			// Everyone who applied sees their cancelled application; nobody can apply again.
			for _, u := range users {
				if d := rt.MustGet(t, st, deal.ID, u.Token); d.MyApplication == nil || d.MyApplication.Status != "CANCELLED" {
					t.Fatalf("%s sees %+v", u.Nickname, d.MyApplication)
				}
				res, _ := rt.Apply(t, st, deal.ID, u.Token)
				res.Refused(t, http.StatusConflict, "R008")
			}
			res, _ := rt.Apply(t, st, deal.ID, rt.NewUser(t, st, auth.RoleUser).Token)
			res.Refused(t, http.StatusConflict, "R004")
			// Cancelled is final.
			rt.Act(t, st, deal.ID, "cancel/seller", rt.Reason("again"), deal.Seller.Token).Refused(t, http.StatusConflict, "R004")
			if n := len(rt.History(t, st, deal.ID)); n != len(h) {
				t.Fatalf("a second cancel wrote history")
			}
		})
	}
}

func TestCancelBySellerRefusals(t *testing.T) {
	t.Parallel()
	st := stacktest.Start(t)
	admin := rt.NewUser(t, st, auth.RoleMaster)
	stranger := rt.NewUser(t, st, auth.RoleUser)
	deal := rt.Open(t, st, -time.Second, time.Hour)
	users := rt.Users(t, st, 2)
	buyer, second := users[0], users[1]
	rt.Queue(t, st, deal.ID, users...)

	cases := []struct {
		name   string
		path   string
		body   any
		token  string
		status int
		code   string
	}{
		{"the buyer", deal.ID.String(), rt.Reason("x"), buyer.Token, http.StatusForbidden, "R005"},
		{"an applicant in line", deal.ID.String(), rt.Reason("x"), second.Token, http.StatusForbidden, "R005"},
		{"a stranger", deal.ID.String(), rt.Reason("x"), stranger.Token, http.StatusForbidden, "R005"},
		{"missing reason", deal.ID.String(), map[string]any{}, deal.Seller.Token, http.StatusBadRequest, "R001"},
		{"empty reason", deal.ID.String(), rt.Reason(""), deal.Seller.Token, http.StatusBadRequest, "R001"},
		{"no body", deal.ID.String(), nil, deal.Seller.Token, http.StatusBadRequest, "C008"},
		{"malformed id", "not-a-uuid", rt.Reason("x"), deal.Seller.Token, http.StatusBadRequest, "C015"},
		{"unknown id", uuid.NewString(), rt.Reason("x"), admin.Token, http.StatusNotFound, "R006"},
		{"no token", deal.ID.String(), rt.Reason("x"), "", http.StatusUnauthorized, "C002"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st.Do(t, "PATCH", "/api/v1/reservations/"+tc.path+"/cancel/seller", tc.body, tc.token).Refused(t, tc.status, tc.code)
		})
	}
	if row := rt.Read(t, st, deal.ID); row.Status != "PENDING" || row.Version != 1 || *row.BuyerID != buyer.UserID {
		t.Fatalf("after refusals: %+v", row)
	}
	if evs := rt.Events(t, st, deal.ID); len(evs) != 1 {
		t.Fatalf("events after refusals: %v", rt.Topics(evs))
	}

	// A reservation handed to its trade is the trade's to end.
	rt.MustAct(t, st, deal.ID, "paymentconfirm", nil, admin.Token)
	rt.MustAct(t, st, deal.ID, "complete", nil, deal.Seller.Token)
	rt.Act(t, st, deal.ID, "cancel/seller", rt.Reason("x"), deal.Seller.Token).Refused(t, http.StatusConflict, "R004")
	rt.Act(t, st, deal.ID, "cancel/seller", rt.Reason("x"), admin.Token).Refused(t, http.StatusConflict, "R004")
	if row := rt.Read(t, st, deal.ID); row.Status != "COMPLETED" {
		t.Fatalf("completed reservation is now %s", row.Status)
	}
}
