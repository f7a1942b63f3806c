// Package my is the function products-my: GET /api/v1/products/my lists the caller's own
// products, with the same filters, sorts and cursors as the search (products.Store.Mine).
package my

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"

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
	Query: []registry.Param{
		{Name: "status", Type: "string", Example: string(products.PendingReservation),
			Description: "Only products in this effective state, in any case: " + strings.Join(statuses, ", ") + "."},
		{Name: "sellerId", Type: "string", Format: "uuid",
			Description: "Ignored: the list is always the caller's. A value that is not a UUID is still refused."},
		{Name: "q", Type: "string", Example: "chair",
			Description: "A part of the name or description, in any case; at most 100 characters once trimmed."},
		{Name: "minPrice", Type: "integer", Minimum: new(0.0), Maximum: new(float64(products.MaxPrice)), Example: 10000,
			Description: "Only products priced at least this much; 0 means no lower bound."},
		{Name: "maxPrice", Type: "integer", Minimum: new(0.0), Maximum: new(float64(products.MaxPrice)), Example: 50000,
			Description: "Only products priced at most this much; 0 means no upper bound. It must not be below `minPrice`."},
		{Name: "openNow", Type: "boolean", Default: false, Example: true,
			Description: "`true`: only deals whose window is open now (`startTime` ≤ now < `endTime`)."},
		{Name: "startingWithin", Type: "string", Example: "24h",
			Description: "Only deals that open between now and now plus this duration: a positive Go " +
				"duration such as `30m`, `2h` or `1h30m`, at most `8784h` (366 days)."},
		{Name: "sort", Type: "string", Enum: sorts, Default: string(products.SortNewest), Example: string(products.SortStart),
			Description: "`newest` (newest listing first), `startTime` (soonest start first), `price` " +
				"(cheapest first) or `price,desc` (dearest first); `startTime,asc` and `price,asc` are " +
				"accepted for the ascending orders."},
		{Name: "size", Type: "integer", Minimum: new(1.0), Maximum: new(float64(products.MaxPageSize)),
			Default: products.DefaultPageSize, Description: "Items per page, 1 to 100."},
		{Name: "cursor", Type: "string",
			Description: "The `nextCursor` of the previous page, with the same filters and sort; absent for the first page."},
	},
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

// statuses and sorts are the values the query takes.
var (
	statuses = []string{
		string(products.PendingReservation), string(products.Reserving), string(products.InTrade),
		string(products.Completed), string(products.SaleCanceled), string(products.Expired), string(products.Failed),
	}
	sorts = []string{
		string(products.SortNewest), string(products.SortStart), "startTime,asc",
		string(products.SortPrice), "price,asc", string(products.SortPriceD),
	}
)

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
