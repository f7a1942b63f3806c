// Package my is the function products-my: GET /api/v1/products/my lists the caller's own
// products, with the same filters, sorts and cursors as the search (products.Store.Mine).
package my

import (
	"context"
	"net/http"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/8949market/market/functions/products/search"
	"github.com/8949market/market/shared/endpoint"
	"github.com/8949market/market/shared/fault"
	"github.com/8949market/market/shared/platform"
	"github.com/8949market/market/shared/products"
	"github.com/8949market/market/shared/registry"
)

var spec = endpoint.Spec[endpoint.None, products.Listing]{
	Summary: "List my products",
	Description: "Lists the caller's own live products, whatever their state; deleted ones never " +
		"appear. It is `GET /api/v1/products` limited to the caller as seller, with the same filters, " +
		"sorts and paging: filters combine with AND, `status` is the effective state at the moment " +
		"of the answer, and an item carries no description.\n\n" +
		"Keyset pagination: `size` items per page (1 to 100, default 20), then pass the answer's " +
		"`nextCursor` as `cursor` for the next page with the same filters and `sort`; `hasNext` is " +
		"false and `nextCursor` absent on the last page. A cursor made for other filters or another " +
		"order, and any malformed parameter, is 400 `C015` naming the parameter.",
	Query: query,

	Errors: []*fault.Error{fault.ErrBadParameter},
	Answer: &products.Listing{
		Content: []products.Item{
			{
				ProductID: uuid.MustParse("3f6b2c1d-8e4a-4b7f-9c25-6d1e0a9b8c47"), Name: "Oak dining chair", Price: 45000,
				Status: products.PendingReservation, SellerID: uuid.MustParse("9a4c7e21-5d3b-4f86-b2a9-1e6d8c3f7a52"),
				StartTime: time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC), EndTime: time.Date(2026, 12, 5, 13, 0, 0, 0, time.UTC),
				CreatedAt: time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC),
			},
			{
				ProductID: uuid.MustParse("e4b9c2d7-1a3f-4e6b-8d05-7c2a9f1e3b68"), Name: "Brass desk lamp", Price: 18000,
				Status: products.Completed, SellerID: uuid.MustParse("9a4c7e21-5d3b-4f86-b2a9-1e6d8c3f7a52"),
				StartTime: time.Date(2026, 11, 20, 19, 0, 0, 0, time.UTC), EndTime: time.Date(2026, 11, 20, 20, 0, 0, 0, time.UTC),
				CreatedAt: time.Date(2026, 11, 18, 14, 50, 0, 0, time.UTC),
			},
		},
		Size:    20,
		HasNext: false,
	},
}

// query is the search's (the same parser reads it), but for sellerId: the list is always the
// caller's.
var query = func() []registry.Param {
	q := slices.Clone(search.Query)
	for i := range q {
		if q[i].Name == "sellerId" {
			q[i].Description = "Ignored: the list is always the caller's. A value that is not a UUID is still refused."
			q[i].Example = nil
		}
	}
	return q
}()

func init() {
	registry.HTTP("products-my", "GET /api/v1/products/my", New, spec.Doc())
}

// New builds the handler.
func New(kit *platform.Kit) http.Handler {
	store := products.NewStore(kit.DB)
	return endpoint.Handle(kit, spec, func(ctx context.Context, r endpoint.Request[endpoint.None]) (products.Listing, error) {
		return store.Mine(ctx, r.Who.UserID, r.Query)
	})
}
