package cancelbuyer_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/devstack/stacktest"
	"github.com/8949market/market/shared/reservations"
	rt "github.com/8949market/market/shared/reservations/reservationtest"
)

// Four applicants: A the buyer, B, C and D in line. Each buyer in turn cancels and the
// next in line takes the reservation with a payment deadline of their own, until D
// cancels with nobody left and the deal, still inside its window, is open again.
func TestPromotionChain(t *testing.T) {
	t.Parallel()
	st := stacktest.Start(t)
	deal := rt.Listed(t, st, "Mountain bike")
	users := rt.Users(t, st, 4)
	a, b, c, d := users[0], users[1], users[2], users[3]
	rt.Queue(t, st, deal.ID, users...)
	window := st.Config.PaymentWindow
	if window <= 0 {
		window = reservations.DefaultPaymentWindow
	}

	prevDeadline := *rt.Read(t, st, deal.ID).PaymentDeadline
	for i, quitter := range users[:3] {
		next, behind := users[i+1], users[i+2:]
		before := time.Now()
		got := rt.MustAct(t, st, deal.ID, "cancel/buyer", rt.Reason("found a cheaper one"), quitter.Token)
		// The quitter is no party any more: the answer shows their cancelled application
		// and nothing of the new buyer.
		if got.Status != reservations.Pending || got.Buyer != nil || got.PaymentDeadline != nil ||
			got.MyApplication == nil || got.MyApplication.Status != "CANCELLED" || got.QueueLength != int64(len(behind)) {
			t.Fatalf("answer to %s cancelling: %+v", quitter.Nickname, got)
		}

		nd := rt.MustGet(t, st, deal.ID, next.Token)
		if nd.Status != reservations.Pending || nd.Buyer == nil || nd.Buyer.UserID != next.UserID ||
			nd.MyApplication == nil || nd.MyApplication.Status != "SELECTED" || nd.PaymentDeadline == nil {
			t.Fatalf("after %s cancelled, the next sees %+v", quitter.Nickname, nd)
		}
		if !nd.PaymentDeadline.After(prevDeadline) || nd.PaymentDeadline.Before(before.Add(window-time.Minute)) ||
			nd.PaymentDeadline.After(time.Now().Add(window+time.Minute)) {
			t.Fatalf("new deadline %v: want about %v from now and after the previous %v", nd.PaymentDeadline, window, prevDeadline)
		}
		prevDeadline = *nd.PaymentDeadline
		for j, u := range behind {
			w := rt.MustGet(t, st, deal.ID, u.Token)
			if w.MyApplication == nil || w.MyApplication.Status != "WAITING" || w.MyApplication.Place != int64(j+1) ||
				w.Buyer != nil || w.PaymentDeadline != nil {
				t.Fatalf("after %s cancelled, %s sees %+v; want WAITING at %d", quitter.Nickname, u.Nickname, w, j+1)
			}
		}
		if sd := rt.MustGet(t, st, deal.ID, deal.Seller.Token); sd.Buyer == nil || sd.Buyer.UserID != next.UserID || sd.Buyer.Nickname != next.Nickname {
			t.Fatalf("the seller sees buyer %+v, want %s", sd.Buyer, next.Nickname)
		}
	}

	// D, the last, cancels: nobody waits and the window is open, so the deal is on sale.
	got := rt.MustAct(t, st, deal.ID, "cancel/buyer", rt.Reason("changed my mind"), d.Token)
	if got.Status != reservations.Available || got.Buyer != nil || got.QueueLength != 0 {
		t.Fatalf("after the last buyer cancelled: %+v", got)
	}
	row := rt.Read(t, st, deal.ID)
	if row.Status != "AVAILABLE" || row.BuyerID != nil || row.BuyerPosition != nil || row.PaymentDeadline != nil || row.Version != 5 {
		t.Fatalf("stored %+v, want AVAILABLE without a buyer at version 5", row)
	}
	for u, s := range rt.Applications(t, st, deal.ID) {
		if s != "CANCELLED" {
			t.Fatalf("application of %s is %s, want CANCELLED", u, s)
		}
	}

	// History: the first buyer selected, then one row per cancellation.
	h := rt.History(t, st, deal.ID)
	wantMoves := [][2]string{{"AVAILABLE", "PENDING"}, {"PENDING", "PENDING"}, {"PENDING", "PENDING"}, {"PENDING", "PENDING"}, {"PENDING", "AVAILABLE"}}
	wantBy := []uuid.UUID{a.UserID, a.UserID, b.UserID, c.UserID, d.UserID}
	if len(h) != len(wantMoves) {
		t.Fatalf("history %+v, want %d rows", h, len(wantMoves))
	}
	for i, row := range h {
		if row.From != wantMoves[i][0] || row.To != wantMoves[i][1] || row.ChangedBy == nil || *row.ChangedBy != wantBy[i] {
			t.Fatalf("history row %d: %+v, want %v by %s", i, row, wantMoves[i], wantBy[i])
		}
		if i > 0 && !strings.Contains(row.Comment, "buyer cancelled") {
			t.Fatalf("history row %d comment %q", i, row.Comment)
		}
	}

	// Events: a reservation-applied for each buyer, the first included, in version order;
	// then reservation-cancelled as the deal reopens.
	evs := rt.Events(t, st, deal.ID)
	if got, want := rt.Topics(evs), []string{"reservation-applied", "reservation-applied", "reservation-applied", "reservation-applied", "reservation-cancelled"}; !slices.Equal(got, want) {
		t.Fatalf("events %v, want %v", got, want)
	}
	for i, e := range evs {
		if e.Data.Version != int64(i+1) || e.Data.ReservationID != deal.ID || e.Data.ProductID != deal.ProductID || e.Data.SellerID != deal.Seller.UserID {
			t.Fatalf("event %d: %+v", i, e.Data)
		}
		if i < 4 {
			if e.Data.Status != "PENDING" || e.Data.BuyerID == nil || *e.Data.BuyerID != users[i].UserID || e.Data.BuyerNickname != users[i].Nickname {
				t.Fatalf("reservation-applied %d: %+v, want buyer %s", i, e.Data, users[i].Nickname)
			}
		} else if e.Data.Status != "AVAILABLE" || e.Data.BuyerID != nil || e.Data.Reason == "" {
			t.Fatalf("reservation-cancelled: %+v", e.Data)
		}
	}

	// Everyone who cancelled stays out; a newcomer takes the reopened deal as its buyer.
	for _, u := range users {
		res, _ := rt.Apply(t, st, deal.ID, u.Token)
		res.Refused(t, http.StatusConflict, "R008")
	}
	newcomer := rt.NewUser(t, st, auth.RoleUser)
	if app := rt.MustApply(t, st, deal.ID, newcomer.Token); app.Status != "SELECTED" {
		t.Fatalf("newcomer on the reopened deal: %+v, want SELECTED", app)
	}

	// The product followed the events: its buyer is the newcomer, at the latest version.
	rt.Settle(t, st)
	var productBuyer *uuid.UUID
	var productVersion int64
	if err := st.Kit.DB.QueryRow(context.Background(),
		`SELECT buyer_id, reservation_version FROM products.products WHERE id = $1`, deal.ProductID).
		Scan(&productBuyer, &productVersion); err != nil {
		t.Fatal(err)
	}
	if productBuyer == nil || *productBuyer != newcomer.UserID || productVersion != 6 {
		t.Fatalf("product buyer %v at version %d, want %s at 6", productBuyer, productVersion, newcomer.UserID)
	}
}

// The last buyer cancels after the window closed: nobody can take it, so it ends.
func TestCancelBuyerAfterWindowEnds(t *testing.T) {
	t.Parallel()
	st := stacktest.Start(t)
	deal := rt.Open(t, st, -time.Second, time.Hour)
	buyer := rt.NewUser(t, st, auth.RoleUser)
	rt.Queue(t, st, deal.ID, buyer)
	rt.Exec(t, st, `UPDATE reservations.reservations SET start_time = clock_timestamp() - interval '2 hours',
		end_time = clock_timestamp() - interval '1 second' WHERE id = $1`, deal.ID)

	got := rt.MustAct(t, st, deal.ID, "cancel/buyer", rt.Reason("too late anyway"), buyer.Token)
	if got.Status != reservations.Cancelled {
		t.Fatalf("status %s, want CANCELLED", got.Status)
	}
	evs := rt.Events(t, st, deal.ID)
	if last := evs[len(evs)-1]; len(evs) != 2 || last.Topic != "reservation-cancelled" || last.Data.Status != "CANCELLED" {
		t.Fatalf("events %v", rt.Topics(evs))
	}
	if h := rt.History(t, st, deal.ID); len(h) != 2 || h[1].From != "PENDING" || h[1].To != "CANCELLED" {
		t.Fatalf("history %+v", h)
	}
}

// Who may withdraw the buyer, and what is refused. Each case on a deal of its own.
func TestCancelBuyerAccess(t *testing.T) {
	t.Parallel()
	st := stacktest.Start(t)
	type roles struct {
		deal          rt.Deal
		buyer, second rt.User
	}
	setup := func(t *testing.T) roles {
		deal := rt.Open(t, st, -time.Second, time.Hour)
		users := rt.Users(t, st, 2)
		rt.Queue(t, st, deal.ID, users...)
		return roles{deal, users[0], users[1]}
	}
	stranger := rt.NewUser(t, st, auth.RoleUser)
	manager := rt.NewUser(t, st, auth.RoleManager)
	master := rt.NewUser(t, st, auth.RoleMaster)

	refused := []struct {
		name   string
		who    func(r roles) string
		body   any
		status int
		code   string
	}{
		{"stranger", func(roles) string { return stranger.Token }, rt.Reason("x"), http.StatusForbidden, "R005"},
		{"seller", func(r roles) string { return r.deal.Seller.Token }, rt.Reason("x"), http.StatusForbidden, "R005"},
		{"applicant in line", func(r roles) string { return r.second.Token }, rt.Reason("x"), http.StatusForbidden, "R005"},
		{"missing reason", func(r roles) string { return r.buyer.Token }, map[string]any{}, http.StatusBadRequest, "R001"},
		{"blank reason", func(r roles) string { return r.buyer.Token }, rt.Reason("   "), http.StatusBadRequest, "R001"},
		{"null reason", func(r roles) string { return r.buyer.Token }, map[string]any{"reason": nil}, http.StatusBadRequest, "R001"},
		{"no token", func(roles) string { return "" }, rt.Reason("x"), http.StatusUnauthorized, "C002"},
	}
	for _, tc := range refused {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := setup(t)
			before := rt.Read(t, st, r.deal.ID)
			rt.Act(t, st, r.deal.ID, "cancel/buyer", tc.body, tc.who(r)).Refused(t, tc.status, tc.code)
			if after := rt.Read(t, st, r.deal.ID); after.Version != before.Version || after.Status != "PENDING" || *after.BuyerID != r.buyer.UserID {
				t.Fatalf("a refused cancel changed %+v into %+v", before, after)
			}
			if n := len(rt.History(t, st, r.deal.ID)); n != 1 {
				t.Fatalf("%d history rows after a refusal", n)
			}
		})
	}

	for _, admin := range []rt.User{manager, master} {
		t.Run("admin "+string(admin.Role), func(t *testing.T) {
			t.Parallel()
			r := setup(t)
			got := rt.MustAct(t, st, r.deal.ID, "cancel/buyer", rt.Reason("buyer asked support"), admin.Token)
			if got.Buyer == nil || got.Buyer.UserID != r.second.UserID {
				t.Fatalf("after an admin withdrew the buyer: %+v", got)
			}
			if h := rt.History(t, st, r.deal.ID); len(h) != 2 || h[1].ChangedBy == nil || *h[1].ChangedBy != admin.UserID {
				t.Fatalf("history %+v", h)
			}
		})
	}

	// Withdrawing after paying (before the trade) also hands the deal to the next in line.
	t.Run("paid buyer", func(t *testing.T) {
		t.Parallel()
		r := setup(t)
		rt.MustAct(t, st, r.deal.ID, "paymentconfirm", nil, manager.Token)
		rt.MustAct(t, st, r.deal.ID, "cancel/buyer", rt.Reason("refund please"), r.buyer.Token)
		row := rt.Read(t, st, r.deal.ID)
		if row.Status != "PENDING" || row.BuyerID == nil || *row.BuyerID != r.second.UserID || row.PaymentDeadline == nil {
			t.Fatalf("after the paid buyer withdrew: %+v", row)
		}
		if h := rt.History(t, st, r.deal.ID); len(h) != 3 || h[2].From != "PAID" || h[2].To != "PENDING" {
			t.Fatalf("history %+v", h)
		}
	})
	t.Run("completed", func(t *testing.T) {
		t.Parallel()
		deal := rt.Open(t, st, -time.Second, time.Hour)
		users := rt.Users(t, st, 2)
		rt.Completed(t, st, deal, users...)
		rt.Act(t, st, deal.ID, "cancel/buyer", rt.Reason("x"), users[0].Token).Refused(t, http.StatusConflict, "R004")
		if row := rt.Read(t, st, deal.ID); row.Status != "COMPLETED" || *row.BuyerID != users[0].UserID {
			t.Fatalf("completed reservation after a refused cancel: %+v", row)
		}
	})
	t.Run("not awaiting payment", func(t *testing.T) {
		t.Parallel()
		deal := rt.Open(t, st, -time.Second, time.Hour)
		rt.Act(t, st, deal.ID, "cancel/buyer", rt.Reason("x"), manager.Token).Refused(t, http.StatusConflict, "R004")
	})
	t.Run("cancelled twice", func(t *testing.T) {
		t.Parallel()
		r := setup(t)
		rt.MustAct(t, st, r.deal.ID, "cancel/buyer", rt.Reason("x"), r.buyer.Token)
		rt.Act(t, st, r.deal.ID, "cancel/buyer", rt.Reason("x"), r.buyer.Token).Refused(t, http.StatusForbidden, "R005")
	})
	t.Run("bad input", func(t *testing.T) {
		t.Parallel()
		st.Do(t, "PATCH", "/api/v1/reservations/not-a-uuid/cancel/buyer", rt.Reason("x"), manager.Token).Refused(t, http.StatusBadRequest, "C015")
		rt.Act(t, st, uuid.New(), "cancel/buyer", rt.Reason("x"), manager.Token).Refused(t, http.StatusNotFound, "R006")
	})
}
