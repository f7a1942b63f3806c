// Package apply is the function reservations-apply: PATCH /api/v1/reservations/{reservationId}
// applies the caller to a time deal. Inside the window the first applicant becomes the
// buyer (SELECTED, with a payment deadline) and every later one queues (WAITING, with its
// place); outside it the answer is 409 R012 (not open yet) or R013 (ended). A second
// application is 409 R008; the seller cannot apply (403 R014).
package apply

import (
	"context"
	"net/http"
	"time"

	"github.com/google/uuid"

	"github.com/8949market/market/shared/endpoint"
	"github.com/8949market/market/shared/fault"
	"github.com/8949market/market/shared/platform"
	"github.com/8949market/market/shared/registry"
	"github.com/8949market/market/shared/reservations"
)

var spec = endpoint.Spec[endpoint.None, reservations.Application]{
	Summary: "Apply to a time deal",
	Description: "Applies the caller to the deal: any signed-in user but its seller (403 `R014`), " +
		"once, only inside the window, `startTime` ≤ now < `endTime` (409 `R012` before it opens, " +
		"`R013` once it has ended). Find a product's reservation id with " +
		"`GET /api/v1/reservations?productId=`.\n\n" +
		"The first applicant while nobody holds the deal becomes its buyer: `status` `SELECTED`, " +
		"`position` 0, and a `paymentDeadline` (60 minutes by default) by which the payment must be " +
		"confirmed. Everyone else queues: `status` `WAITING` with `position`, the place in the queue " +
		"when admitted (1 is next in line); places move up as the buyer or those ahead drop out — " +
		"`GET /api/v1/reservations/{reservationId}` always shows the current one. A waiting applicant " +
		"is promoted when the buyer cancels, misses the deadline, or the trade is cancelled.\n\n" +
		"A second application by the same user is 409 `R008`. A reservation cancelled or handed to " +
		"a trade takes no applications (409 `R004`). Under a storm of applicants an application may " +
		"be answered 503 `C014`: it was not recorded, and applying again is safe.",
	PathID: "reservationId",
	Errors: []*fault.Error{
		reservations.ErrNotFound, reservations.ErrSellerApplies, reservations.ErrAlreadyApplied,
		reservations.ErrNotOpen, reservations.ErrEnded, reservations.ErrClosed,
	},
	Answer: &reservations.Application{
		ReservationID:   uuid.MustParse("7c2e9f14-6a3b-4d58-8e1f-2b9a4c6d0e35"),
		Status:          "SELECTED",
		Position:        0,
		PaymentDeadline: new(time.Date(2026, 12, 5, 13, 0, 0, 183000000, time.UTC)),
	},
}

func init() {
	registry.HTTP("reservations-apply", "PATCH /api/v1/reservations/{reservationId}", New, spec.Doc())
}

// New builds the handler.
func New(kit *platform.Kit) http.Handler {
	svc := reservations.NewService(kit.DB, kit.Redis, kit.Config.PaymentWindow)
	return endpoint.Handle(kit, spec, func(ctx context.Context, r endpoint.Request[endpoint.None]) (reservations.Application, error) {
		return svc.Apply(ctx, r.ID, r.Who)
	})
}
