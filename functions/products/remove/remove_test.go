package remove_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/devstack/stacktest"
	"github.com/8949market/market/shared/events"
	"github.com/8949market/market/shared/page"
	"github.com/8949market/market/shared/products"
)

func path(id uuid.UUID) string { return "/api/v1/products/" + id.String() }

type answer struct {
	ProductID string    `json:"productId"`
	DeletedAt time.Time `json:"deletedAt"`
	DeletedBy string    `json:"deletedBy"`
}

// checkDeleted asserts that the listing is gone: the answer names it and who removed it,
// the row is kept (soft delete) with deleted_at/by, GET is 404 P001, and neither the
// search nor the seller's own list shows it. cancelled says whether the sale was still on
// and so product-cancelled (deleted=true) was announced; an ended deal announces nothing.
func checkDeleted(t *testing.T, st *stacktest.Stack, res stacktest.Response, id uuid.UUID, by uuid.UUID, sellerTok, reader string, cancelled bool) {
	t.Helper()
	if res.Status != http.StatusOK {
		t.Fatalf("delete: status %d: %s", res.Status, res.Body)
	}
	var a answer
	res.Data(t, &a)
	if a.ProductID != id.String() || a.DeletedBy != by.String() || time.Since(a.DeletedAt) > time.Minute || a.DeletedAt.After(time.Now()) {
		t.Errorf("answer = %+v, want product %s deleted by %s just now", a, id, by)
	}
	var deletedAt *time.Time
	var deletedBy *uuid.UUID
	if err := st.Kit.DB.QueryRow(context.Background(),
		`SELECT deleted_at, deleted_by FROM products.products WHERE id = $1`, id).Scan(&deletedAt, &deletedBy); err != nil {
		t.Fatalf("the row is kept for audit: %v", err)
	}
	if deletedAt == nil || !deletedAt.Equal(a.DeletedAt) || deletedBy == nil || *deletedBy != by {
		t.Errorf("row deleted_at %v deleted_by %v, want %s %s", deletedAt, deletedBy, a.DeletedAt, by)
	}
	wantError(t, st.Do(t, "GET", path(id), nil, reader), http.StatusNotFound, "P001")
	wantError(t, st.Do(t, "GET", path(id), nil, sellerTok), http.StatusNotFound, "P001")
	var seller uuid.UUID
	if err := st.Kit.DB.QueryRow(context.Background(), `SELECT seller_id FROM products.products WHERE id = $1`, id).Scan(&seller); err != nil {
		t.Fatal(err)
	}
	for _, list := range []string{"/api/v1/products?size=100&sellerId=", "/api/v1/products/my?size=100&sellerId="} {
		for _, tok := range []string{reader, sellerTok} {
			var pg page.Page[products.Item]
			st.Do(t, "GET", list+url.QueryEscape(seller.String()), nil, tok).Data(t, &pg)
			for _, it := range pg.Content {
				if it.ProductID == id {
					t.Errorf("%s lists the deleted product", list)
				}
			}
		}
	}
	cancels := outboxEvents[events.ProductCancelledData](t, st, id, events.ProductCancelled)
	switch {
	case cancelled && (len(cancels) != 1 || cancels[0].ProductID != id || !cancels[0].Deleted || cancels[0].By != by):
		t.Errorf("product-cancelled events = %+v, want one {productId %s deleted true by %s}", cancels, id, by)
	case !cancelled && len(cancels) != 0:
		t.Errorf("product-cancelled events = %+v for a deal that had already ended, want none", cancels)
	}
}

// Only the seller (by id) or an administrator may delete; identity claimed in headers
// counts for nothing, only the token does.
func TestDeleteOwnerOrAdmin(t *testing.T) {
	t.Parallel()
	st := stacktest.Start(t)
	sellerTok, seller := st.Token(t, auth.RoleUser)
	otherTok, _ := st.Token(t, auth.RoleUser)
	managerTok, manager := st.Token(t, auth.RoleManager)
	masterTok, master := st.Token(t, auth.RoleMaster)
	own := path
	malformed := func(uuid.UUID) string { return "/api/v1/products/not-a-uuid" }
	unknown := func(uuid.UUID) string { return path(uuid.New()) }

	tests := []struct {
		name    string
		token   string
		headers map[string]string
		path    func(uuid.UUID) string
		status  int
		code    string
		by      uuid.UUID
	}{
		{"seller", sellerTok, nil, own, 200, "", seller.UserID},
		{"manager", managerTok, nil, own, 200, "", manager.UserID},
		{"master", masterTok, nil, own, 200, "", master.UserID},
		{"another user", otherTok, nil, own, 403, "P009", uuid.Nil},
		{"another user naming the seller in identity headers", otherTok, spoof(seller), own, 403, "P009", uuid.Nil},
		{"no token", "", nil, own, 401, "C002", uuid.Nil},
		{"no token, identity headers only", "", spoof(seller), own, 401, "C002", uuid.Nil},
		{"malformed id", sellerTok, nil, malformed, 400, "C015", uuid.Nil},
		{"unknown id", sellerTok, nil, unknown, 404, "P001", uuid.Nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := list(t, st, sellerTok)
			before := capture(t, st, p.ProductID)
			res := doWith(t, st, "DELETE", tt.path(p.ProductID), nil, tt.token, tt.headers)
			if tt.status == http.StatusOK {
				checkDeleted(t, st, res, p.ProductID, tt.by, sellerTok, otherTok, true)
				return
			}
			wantError(t, res, tt.status, tt.code)
			before.unchanged(t, st, p.ProductID)
			// Still there for everyone.
			var v products.View
			st.Do(t, "GET", path(p.ProductID), nil, otherTok).Data(t, &v)
		})
	}
}

// A deal on sale is cancelled with its listing (product-cancelled, deleted=true); an ended
// one (expired, cancelled, failed) is only hidden, with no event; one in a trade or sold
// cannot be removed.
func TestDeleteStateRules(t *testing.T) {
	t.Parallel()
	st := stacktest.Start(t)
	token, seller := st.Token(t, auth.RoleUser)
	reader, _ := st.Token(t, auth.RoleUser)

	type setup func(t *testing.T, id uuid.UUID, now time.Time)
	window := func(start, end time.Duration) setup {
		return func(t *testing.T, id uuid.UUID, now time.Time) { setWindow(t, st, id, now.Add(start), now.Add(end)) }
	}
	status := func(s products.Status, start, end time.Duration) setup {
		return func(t *testing.T, id uuid.UUID, now time.Time) {
			setWindow(t, st, id, now.Add(start), now.Add(end))
			setStatus(t, st, id, s)
		}
	}
	withBuyer := func(s setup) setup {
		return func(t *testing.T, id uuid.UUID, now time.Time) {
			s(t, id, now)
			exec(t, st, `UPDATE products.products SET buyer_id = $2, reservation_version = 1 WHERE id = $1`, id, uuid.New())
		}
	}
	const (
		cancels = iota // deleted, and the sale cancelled with it
		hides          // deleted, nothing to announce
		refused        // 409 P005
	)
	tests := []struct {
		name  string
		setup setup
		want  int
	}{
		{"pending", func(*testing.T, uuid.UUID, time.Time) {}, cancels},
		{"window open, tick not run yet", window(-time.Minute, time.Hour), cancels},
		{"stored RESERVING", status(products.Reserving, -time.Minute, time.Hour), cancels},
		{"window closed while a buyer holds it", withBuyer(status(products.Reserving, -2*time.Hour, -time.Hour)), cancels},
		{"stored EXPIRED", status(products.Expired, -2*time.Hour, -time.Hour), hides},
		{"stored SALE_CANCELED", status(products.SaleCanceled, time.Hour, 2*time.Hour), hides},
		{"stored FAILED", status(products.Failed, time.Hour, 2*time.Hour), hides},
		// The window closes at end_time whatever the tick has written: the deal shows
		// EXPIRED, so it has ended and there is no sale left to cancel.
		{"window closed with no buyer, tick not run yet", window(-2*time.Hour, -time.Hour), hides},
		{"stored IN_TRADE", status(products.InTrade, -time.Minute, time.Hour), refused},
		{"stored COMPLETED", status(products.Completed, -2*time.Hour, -time.Hour), refused},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := list(t, st, token)
			tt.setup(t, p.ProductID, time.Now())
			before := capture(t, st, p.ProductID)
			res := st.Do(t, "DELETE", path(p.ProductID), nil, token)
			if tt.want == refused {
				wantError(t, res, http.StatusConflict, "P005")
				before.unchanged(t, st, p.ProductID)
				return
			}
			checkDeleted(t, st, res, p.ProductID, seller.UserID, token, reader, tt.want == cancels)
		})
	}

	t.Run("twice", func(t *testing.T) {
		t.Parallel()
		p := list(t, st, token)
		checkDeleted(t, st, st.Do(t, "DELETE", path(p.ProductID), nil, token), p.ProductID, seller.UserID, token, reader, true)
		before := capture(t, st, p.ProductID)
		wantError(t, st.Do(t, "DELETE", path(p.ProductID), nil, token), http.StatusNotFound, "P001")
		before.unchanged(t, st, p.ProductID)
	})

	// The other listings of the seller stay visible.
	t.Run("only that listing", func(t *testing.T) {
		t.Parallel()
		seller2Tok, _ := st.Token(t, auth.RoleUser)
		keep := list(t, st, seller2Tok)
		gone := list(t, st, seller2Tok)
		if res := st.Do(t, "DELETE", path(gone.ProductID), nil, seller2Tok); res.Status != http.StatusOK {
			t.Fatalf("delete: status %d: %s", res.Status, res.Body)
		}
		var pg page.Page[products.Item]
		st.Do(t, "GET", "/api/v1/products/my", nil, seller2Tok).Data(t, &pg)
		if len(pg.Content) != 1 || pg.Content[0].ProductID != keep.ProductID {
			t.Errorf("/my after deleting one of two = %+v, want only %s", pg.Content, keep.ProductID)
		}
	})
}
