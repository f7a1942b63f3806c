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
	"github.com/8949market/market/shared/events/eventtest"
	"github.com/8949market/market/shared/page"
	"github.com/8949market/market/shared/products"
	"github.com/8949market/market/shared/products/producttest"
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
func checkDeleted(t testing.TB, st *stacktest.Stack, res stacktest.Response, id uuid.UUID, by uuid.UUID, sellerTok, reader string, cancelled bool) {
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
	st.Do(t, "GET", path(id), nil, reader).Refused(t, http.StatusNotFound, "P001")
	st.Do(t, "GET", path(id), nil, sellerTok).Refused(t, http.StatusNotFound, "P001")
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
	cancels := eventtest.Events[events.ProductCancelledData](t, st.Kit.DB, id, events.ProductCancelled)
	switch {
	case cancelled && (len(cancels) != 1 || cancels[0].ProductID != id || !cancels[0].Deleted || cancels[0].By != by):
		t.Errorf("product-cancelled events = %+v, want one {productId %s deleted true by %s}", cancels, id, by)
	case !cancelled && len(cancels) != 0:
		t.Errorf("product-cancelled events = %+v for a deal that had already ended, want none", cancels)
	}
}

// removal is DELETE /api/v1/products/{id}, checked by checkDeleted: who's other user
// reads the product back, and cancelled says whether the sale was still on.
func removal(st *stacktest.Stack, who producttest.Parties, cancelled bool) producttest.Change {
	return producttest.Change{
		Method: "DELETE", Path: path, Malformed: "/api/v1/products/not-a-uuid",
		Request: func() (any, producttest.Made) {
			return nil, func(t testing.TB, res stacktest.Response, p products.View, by uuid.UUID) {
				checkDeleted(t, st, res, p.ProductID, by, who.SellerToken, who.OtherToken, cancelled)
			}
		},
	}
}

// Only the seller (by id) or an administrator may delete; identity claimed in headers
// counts for nothing, only the token does.
func TestDeleteOwnerOrAdmin(t *testing.T) {
	t.Parallel()
	st := stacktest.Start(t)
	who := producttest.NewParties(t, st)
	change := removal(st, who, true)
	// A refused delete leaves the product there for everyone.
	change.Kept = func(t testing.TB, p products.View) { producttest.Get(t, st, who.OtherToken, p.ProductID) }
	producttest.OwnerOrAdmin(t, st, who, change)
}

// A deal on sale is cancelled with its listing (product-cancelled, deleted=true); an ended
// one (expired, cancelled, failed) is only hidden, with no event; one in a trade or sold
// cannot be removed.
func TestDeleteStateRules(t *testing.T) {
	t.Parallel()
	st := stacktest.Start(t)
	who := producttest.NewParties(t, st)
	window, stored, withBuyer := producttest.Window, producttest.StoredIn, producttest.WithBuyer
	deleted := func(t testing.TB, st *stacktest.Stack, id uuid.UUID, _ time.Time) {
		checkDeleted(t, st, st.Do(t, "DELETE", path(id), nil, who.SellerToken), id, who.Seller.UserID, who.SellerToken, who.OtherToken, true)
	}

	// Deleted, and the sale cancelled with it; or refused with 409 P005.
	producttest.StateRules(t, st, who, removal(st, who, true), []producttest.Case{
		{Name: "pending", Setup: producttest.Listed, Status: http.StatusOK},
		{Name: "window open, tick not run yet", Setup: window(-time.Minute, time.Hour), Status: http.StatusOK},
		{Name: "stored RESERVING", Setup: stored(products.Reserving, -time.Minute, time.Hour), Status: http.StatusOK},
		{Name: "window closed while a buyer holds it", Setup: withBuyer(stored(products.Reserving, -2*time.Hour, -time.Hour)), Status: http.StatusOK},
		{Name: "stored IN_TRADE", Setup: stored(products.InTrade, -time.Minute, time.Hour), Status: http.StatusConflict, Code: "P005"},
		{Name: "stored COMPLETED", Setup: stored(products.Completed, -2*time.Hour, -time.Hour), Status: http.StatusConflict, Code: "P005"},
		{Name: "twice", Setup: deleted, Status: http.StatusNotFound, Code: "P001"},
	})
	// Deleted, with nothing to announce.
	producttest.StateRules(t, st, who, removal(st, who, false), []producttest.Case{
		{Name: "stored EXPIRED", Setup: stored(products.Expired, -2*time.Hour, -time.Hour), Status: http.StatusOK},
		{Name: "stored SALE_CANCELED", Setup: stored(products.SaleCanceled, time.Hour, 2*time.Hour), Status: http.StatusOK},
		{Name: "stored FAILED", Setup: stored(products.Failed, time.Hour, 2*time.Hour), Status: http.StatusOK},
		// The window closes at end_time whatever the tick has written: the deal shows
		// EXPIRED, so it has ended and there is no sale left to cancel.
		{Name: "window closed with no buyer, tick not run yet", Setup: window(-2*time.Hour, -time.Hour), Status: http.StatusOK},
	})

	// The other listings of the seller stay visible.
	t.Run("only that listing", func(t *testing.T) {
		t.Parallel()
		seller2Tok, _ := st.Token(t, auth.RoleUser)
		keep := producttest.List(t, st, seller2Tok)
		gone := producttest.List(t, st, seller2Tok)
		producttest.Remove(t, st, seller2Tok, gone.ProductID)
		var pg page.Page[products.Item]
		st.Do(t, "GET", "/api/v1/products/my", nil, seller2Tok).Data(t, &pg)
		if len(pg.Content) != 1 || pg.Content[0].ProductID != keep.ProductID {
			t.Errorf("/my after deleting one of two = %+v, want only %s", pg.Content, keep.ProductID)
		}
	})
}
