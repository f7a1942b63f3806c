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
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/8949market/market/shared/endpoint"
	"github.com/8949market/market/shared/fault"
	"github.com/8949market/market/shared/page"
	"github.com/8949market/market/shared/platform"
	"github.com/8949market/market/shared/registry"
	"github.com/8949market/market/shared/reservations"
)

var spec = endpoint.Spec[endpoint.None, reservations.Listing]{
	Summary: "List my reservations, or find a product's reservation",
	Description: "Without `productId`: a page of the reservations the caller takes part in as seller " +
		"or buyer (administrators, MANAGER or MASTER: every reservation), newest first. An applicant " +
		"still waiting is neither: their reservations do not appear. Filters combine with AND; the " +
		"name filters match a part, in any case. The answer is a page `{content, size, nextCursor, " +
		"hasNext}`: `size` items per page (1 to 100, default 20), then pass `nextCursor` as `cursor` " +
		"for the next page with the same filters; `hasNext` is false and `nextCursor` absent on the " +
		"last page. A cursor is good only for the query and the caller it was made for.\n\n" +
		"With `productId`: the public summary of that product's reservation, for any signed-in user, " +
		"and every other parameter is ignored. The answer is then one object `{reservationId, " +
		"productId, status, startTime, endTime, queueLength, myApplication}` — nothing about other " +
		"people, only the caller's own application with its `place` while waiting — which is how a " +
		"product page finds the reservation to apply to. A product whose reservation is not opened " +
		"(yet) is 404 `R006`; it is opened a moment after the product is listed.\n\n" +
		"A malformed parameter or a cursor made for another query is 400 `C015` naming the parameter.",
	Query: []registry.Param{
		{Name: "productId", Type: "string", Format: "uuid", Example: "3f6b2c1d-8e4a-4b7f-9c25-6d1e0a9b8c47",
			Description: "Answer this product's public reservation summary instead of a page; the other parameters are then ignored."},
		{Name: "status", Type: "string", Example: string(reservations.Pending),
			Description: "Only reservations in this state, in any case: " + strings.Join(statuses, ", ") + "."},
		{Name: "productName", Type: "string", Example: "chair",
			Description: "A part of the product's name, in any case."},
		{Name: "sellerName", Type: "string", Example: "bob",
			Description: "A part of the seller's nickname, in any case."},
		{Name: "buyerName", Type: "string", Example: "alice",
			Description: "A part of the buyer's nickname, in any case."},
		{Name: "size", Type: "integer", Minimum: new(1.0), Maximum: new(float64(reservations.MaxListSize)),
			Default: reservations.DefaultListSize, Description: "Reservations per page, 1 to 100."},
		{Name: "cursor", Type: "string",
			Description: "The `nextCursor` of the previous page, with the same filters; absent for the first page."},
	},
	Errors: []*fault.Error{fault.ErrBadParameter, reservations.ErrNotFound},
	Answer: &reservations.Listing{Page: &page.Page[reservations.Item]{
		Content: []reservations.Item{
			{
				ReservationID: uuid.MustParse("7c2e9f14-6a3b-4d58-8e1f-2b9a4c6d0e35"),
				ProductID:     uuid.MustParse("3f6b2c1d-8e4a-4b7f-9c25-6d1e0a9b8c47"),
				Status:        reservations.Pending, ProductName: "Oak dining chair", Price: 45000,
				SellerNickname: "bobsdeals", BuyerNickname: "alicek",
				StartTime: time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC), EndTime: time.Date(2026, 12, 5, 13, 0, 0, 0, time.UTC),
				CreatedAt: time.Date(2026, 12, 1, 10, 0, 1, 0, time.UTC),
			},
			{
				ReservationID: uuid.MustParse("2a9d6f3b-7e18-4c4a-95b2-8f0e1d3c6a57"),
				ProductID:     uuid.MustParse("e4b9c2d7-1a3f-4e6b-8d05-7c2a9f1e3b68"),
				Status:        reservations.Closed, ProductName: "Brass desk lamp", Price: 18000,
				SellerNickname: "bobsdeals", BuyerNickname: "minjun",
				StartTime: time.Date(2026, 11, 20, 19, 0, 0, 0, time.UTC), EndTime: time.Date(2026, 11, 20, 20, 0, 0, 0, time.UTC),
				CreatedAt: time.Date(2026, 11, 18, 14, 50, 1, 0, time.UTC),
			},
		},
		Size:       2,
		NextCursor: "eyJxIjoicmVzZXJ2YXRpb25zOmV4YW1wbGUiLCJrIjp7ImlkIjoiMmE5ZDZmM2IifX0",
		HasNext:    true,
	}},
}

// statuses are the reservation states the status filter takes.
var statuses = []string{
	string(reservations.Available), string(reservations.Pending), string(reservations.Paid),
	string(reservations.Completed), string(reservations.Cancelled), string(reservations.Closed),
}

func init() {
	registry.HTTP("reservations-list", "GET /api/v1/reservations", New, spec.Doc())
}

// New builds the handler.
func New(kit *platform.Kit) http.Handler {
	svc := reservations.NewService(kit.DB, kit.Redis, kit.Config.PaymentWindow)
	return endpoint.Handle(kit, spec, func(ctx context.Context, r endpoint.Request[endpoint.None]) (reservations.Listing, error) {
		return svc.List(ctx, r.Who, r.Query)
	})
}
