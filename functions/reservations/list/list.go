// Package list is the function reservations-list: GET /api/v1/reservations lists the
// reservations the caller takes part in as buyer or seller (administrators: all), newest
// first, filtered by status, productName, sellerName and buyerName, a page at a time by
// cursor. With productId= it answers any signed-in user with that product's public
// summary instead — reservation id, status, window, queue length and the caller's own
// place — so a buyer can get from a product page to the button.
package list

import (
	"net/http"

	"github.com/google/uuid"

	"github.com/8949market/market/shared/api"
	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/fault"
	"github.com/8949market/market/shared/page"
	"github.com/8949market/market/shared/platform"
	"github.com/8949market/market/shared/registry"
	"github.com/8949market/market/shared/reservations"
)

func init() {
	registry.HTTP("reservations-list", "GET /api/v1/reservations", New)
}

// New builds the handler.
func New(kit *platform.Kit) http.Handler {
	read := reservations.NewReader(reservations.NewLifecycle(kit.DB, reservations.NewQueue(kit.DB, kit.Redis, kit.Config.PaymentWindow)))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		who, ok := auth.FromContext(r.Context())
		if !ok {
			api.Fail(w, r, fault.ErrUnauthenticated)
			return
		}
		q := r.URL.Query()
		if raw := q.Get("productId"); raw != "" {
			productID, err := uuid.Parse(raw)
			if err != nil {
				api.Fail(w, r, fault.ErrBadParameter.WithMessage("productId must be a UUID").OnField("productId"))
				return
			}
			s, err := read.ForProduct(r.Context(), productID, who)
			if err != nil {
				api.Fail(w, r, err)
				return
			}
			api.OK(w, r, s)
			return
		}
		f := reservations.Filter{ProductName: q.Get("productName"), SellerName: q.Get("sellerName"), BuyerName: q.Get("buyerName")}
		if raw := q.Get("status"); raw != "" {
			st, ok := reservations.ParseStatus(raw)
			if !ok {
				api.Fail(w, r, fault.ErrBadParameter.WithMessage("status must be AVAILABLE, PENDING, PAID, COMPLETED, CANCELLED or CLOSED").OnField("status"))
				return
			}
			f.Status = st
		}
		size, err := page.Size(r, 20, 100)
		if err != nil {
			api.Fail(w, r, err)
			return
		}
		p, err := read.List(r.Context(), who, f, size, q.Get("cursor"))
		if err != nil {
			api.Fail(w, r, err)
			return
		}
		api.OK(w, r, p)
	})
}
