// Package list is the function reservations-list: GET /api/v1/reservations lists the
// reservations the caller takes part in as buyer or seller (administrators: all), newest
// first, filtered by status, productName, sellerName and buyerName, a page at a time by
// cursor. With productId= it answers any signed-in user with that product's public
// summary instead — reservation id, status, window, queue length and the caller's own
// place — so a buyer can get from a product page to the button.
package list

import (
	"context"
	"net/http"

	"github.com/8949market/market/shared/endpoint"
	"github.com/8949market/market/shared/platform"
	"github.com/8949market/market/shared/registry"
	"github.com/8949market/market/shared/reservations"
)

var spec = endpoint.Spec[endpoint.None, any]{}

func init() {
	registry.HTTP("reservations-list", "GET /api/v1/reservations", New, spec.Doc())
}

// New builds the handler.
func New(kit *platform.Kit) http.Handler {
	svc := reservations.NewService(kit.DB, kit.Redis, kit.Config.PaymentWindow)
	return endpoint.Handle(kit, spec, func(ctx context.Context, r endpoint.Request[endpoint.None]) (any, error) {
		return svc.List(ctx, r.Who, r.Query)
	})
}
