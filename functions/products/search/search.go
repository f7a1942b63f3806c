// Package search is the function products-search: GET /api/v1/products lists live
// products, filtered and sorted, a page at a time by cursor (products.Store.Browse).
//
// Query: status (effective), sellerId, q (text in name or description), minPrice,
// maxPrice, openNow, startingWithin (e.g. 2h), sort (newest | startTime | price |
// price,desc), size (1-100, default 20), cursor.
package search

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
	Summary: "Search products",
	Description: "Lists live products to any signed-in user; deleted products never appear. Filters " +
		"combine with AND; `status` is the effective state at the moment of the search, computed from " +
		"the clock as `GET /api/v1/products/{productId}` reports it. An item carries no description: " +
		"get the product for it.\n\n" +
		"Keyset pagination: `size` items per page (1 to 100, default 20), then pass the answer's " +
		"`nextCursor` as `cursor` for the next page with the same filters and `sort`; `hasNext` is " +
		"false and `nextCursor` absent on the last page. Every order ends with the product id, so " +
		"pages neither repeat nor skip. `openNow` and `startingWithin` are judged at each request, " +
		"and a cursor stays good for them. A cursor made for other filters or another order, and any " +
		"malformed parameter, is 400 `C015` naming the parameter.",
	Query:  Query,
	Errors: []*fault.Error{fault.ErrBadParameter},
	Answer: &products.Listing{
		Content: []products.Item{
			{
				ProductID: uuid.MustParse("3f6b2c1d-8e4a-4b7f-9c25-6d1e0a9b8c47"), Name: "Oak dining chair", Price: 45000,
				Status: products.Reserving, SellerID: uuid.MustParse("9a4c7e21-5d3b-4f86-b2a9-1e6d8c3f7a52"),
				StartTime: time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC), EndTime: time.Date(2026, 12, 5, 13, 0, 0, 0, time.UTC),
				CreatedAt: time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC),
			},
			{
				ProductID: uuid.MustParse("5d8a1e3c-2f4b-4c69-a7e0-9b3c6d2f1a84"), Name: "Oak bookshelf, 5 shelves", Price: 30000,
				Status: products.PendingReservation, SellerID: uuid.MustParse("c1e7b3a9-4d2f-4e8b-a6c5-0f9d2e7b1a36"),
				StartTime: time.Date(2026, 12, 5, 14, 0, 0, 0, time.UTC), EndTime: time.Date(2026, 12, 5, 16, 0, 0, 0, time.UTC),
				CreatedAt: time.Date(2026, 11, 30, 18, 45, 0, 0, time.UTC),
			},
		},
		Size:       2,
		NextCursor: "eyJxIjoicHJvZHVjdHM6ZXhhbXBsZSIsImsiOnsiaWQiOiI1ZDhhMWUzYyJ9fQ",
		HasNext:    true,
	},
}

// Query is the search's query parameters; products-my reads the same ones
// (products.Store.Mine shares the search's parser).
var Query = []registry.Param{
	{Name: "status", Type: "string", Example: string(products.Reserving),
		Description: "Only products in this effective state, in any case: " + strings.Join(statuses, ", ") + "."},
	{Name: "sellerId", Type: "string", Format: "uuid", Example: "9a4c7e21-5d3b-4f86-b2a9-1e6d8c3f7a52",
		Description: "Only this seller's products."},
	{Name: "q", Type: "string", Example: "oak chair",
		Description: "A part of the name or description, in any case; at most 100 characters once trimmed."},
	{Name: "minPrice", Type: "integer", Minimum: new(0.0), Maximum: new(float64(products.MaxPrice)), Example: 10000,
		Description: "Only products priced at least this much; 0 means no lower bound."},
	{Name: "maxPrice", Type: "integer", Minimum: new(0.0), Maximum: new(float64(products.MaxPrice)), Example: 50000,
		Description: "Only products priced at most this much; 0 means no upper bound. It must not be below `minPrice`."},
	{Name: "openNow", Type: "boolean", Default: false, Example: true,
		Description: "`true`: only deals whose window is open now (`startTime` ≤ now < `endTime`)."},
	{Name: "startingWithin", Type: "string", Example: "2h",
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
	registry.HTTP("products-search", "GET /api/v1/products", New, spec.Doc())
}

// New builds the handler.
func New(kit *platform.Kit) http.Handler {
	store := products.NewStore(kit.DB)
	return endpoint.Handle(kit, spec, func(ctx context.Context, r endpoint.Request[endpoint.None]) (products.Listing, error) {
		return store.Browse(ctx, r.Query)
	})
}
