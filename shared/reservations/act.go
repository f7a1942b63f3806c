package reservations

import (
	"context"
	"net/url"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"

	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/fault"
	"github.com/8949market/market/shared/page"
)

// Reason is the body of the steps that take one: {"reason": "..."}. A missing or null
// reason is refused by the step (R001), as a blank one is.
type Reason struct {
	Reason *string `json:"reason"`
}

func (r Reason) text() string {
	if r.Reason == nil {
		return ""
	}
	return *r.Reason
}

// Service is the reservation use cases the functions call, one method a route: each
// step checks the caller and the rule, changes the reservation, and answers it as the
// caller may now see it.
type Service struct {
	queue *Queue
	lc    *Lifecycle
	read  *Reader
}

// NewService returns the use cases on db and rdb; paymentWindow is how long a selected
// buyer has to pay (DefaultPaymentWindow when 0).
func NewService(db *pgxpool.Pool, rdb *redis.Client, paymentWindow time.Duration) *Service {
	lc := NewLifecycle(db, rdb, paymentWindow)
	return &Service{queue: lc.queue, lc: lc, read: NewReader(lc)}
}

// Apply applies the caller to reservation id (Queue.Apply).
func (s *Service) Apply(ctx context.Context, id uuid.UUID, who auth.Identity) (Application, error) {
	return s.queue.Apply(ctx, id, Applicant{UserID: who.UserID, Nickname: who.Nickname})
}

// Get returns reservation id as who may see it (Reader.Get).
func (s *Service) Get(ctx context.Context, id uuid.UUID, who auth.Identity) (Detail, error) {
	return s.read.Get(ctx, id, who)
}

// CancelByBuyer withdraws the buyer (Lifecycle.CancelByBuyer) and answers the reservation.
func (s *Service) CancelByBuyer(ctx context.Context, id uuid.UUID, who auth.Identity, body Reason) (Detail, error) {
	return s.answer(ctx, id, who, s.lc.CancelByBuyer(ctx, id, who, body.text()))
}

// CancelBySeller ends the reservation (Lifecycle.CancelBySeller) and answers it.
func (s *Service) CancelBySeller(ctx context.Context, id uuid.UUID, who auth.Identity, body Reason) (Detail, error) {
	return s.answer(ctx, id, who, s.lc.CancelBySeller(ctx, id, who, body.text()))
}

// Expire ends the buyer's turn now (Lifecycle.ExpirePayment by an administrator) and
// answers the reservation.
func (s *Service) Expire(ctx context.Context, id uuid.UUID, who auth.Identity, body Reason) (Detail, error) {
	return s.answer(ctx, id, who, s.lc.ExpirePayment(ctx, id, &who, body.text()))
}

// ConfirmPayment records the payment (Lifecycle.ConfirmPayment) and answers the
// reservation.
func (s *Service) ConfirmPayment(ctx context.Context, id uuid.UUID, who auth.Identity) (Detail, error) {
	return s.answer(ctx, id, who, s.lc.ConfirmPayment(ctx, id, who))
}

// Complete hands the reservation to its trade (Lifecycle.Complete) and answers it.
func (s *Service) Complete(ctx context.Context, id uuid.UUID, who auth.Identity) (Detail, error) {
	return s.answer(ctx, id, who, s.lc.Complete(ctx, id, who))
}

// Leave takes the caller out of the queue (Lifecycle.Leave) and answers the reservation.
func (s *Service) Leave(ctx context.Context, id uuid.UUID, who auth.Identity) (Detail, error) {
	return s.answer(ctx, id, who, s.lc.Leave(ctx, id, who))
}

// answer reads the reservation as who may now see it, once the step (err) succeeded. No
// catch-up before the step: each step checks the clock itself, and a catch-up would move
// the reservation to the next buyer under a request meant for the previous one.
func (s *Service) answer(ctx context.Context, id uuid.UUID, who auth.Identity, err error) (Detail, error) {
	if err != nil {
		return Detail{}, err
	}
	return s.read.Get(ctx, id, who)
}

// ErrStatus is a status filter that is not a reservation status.
var ErrStatus = fault.ErrBadParameter.WithMessage("status must be AVAILABLE, PENDING, PAID, COMPLETED, CANCELLED or CLOSED").OnField("status")

// A list's page: DefaultListSize items unless size asks for 1 to MaxListSize.
const (
	DefaultListSize = 20
	MaxListSize     = 100
)

// Listing is the answer to GET /api/v1/reservations: a page of Items, or, when the query
// names a productId, that product's public Summary. Exactly one is set, and the JSON is
// that one's object alone (the embedded pointers add no key of their own).
type Listing struct {
	*Summary
	*page.Page[Item]
}

// List answers GET /api/v1/reservations for who: with productId, the product's public
// Summary; otherwise a page of Items filtered by status, productName, sellerName and
// buyerName, size at a time (DefaultListSize by default, at most MaxListSize) after cursor.
func (s *Service) List(ctx context.Context, who auth.Identity, q url.Values) (Listing, error) {
	if raw := q.Get("productId"); raw != "" {
		productID, err := uuid.Parse(raw)
		if err != nil {
			return Listing{}, fault.ErrBadParameter.WithMessage("productId must be a UUID").OnField("productId")
		}
		sum, err := s.read.ForProduct(ctx, productID, who)
		if err != nil {
			return Listing{}, err
		}
		return Listing{Summary: &sum}, nil
	}
	f := Filter{ProductName: q.Get("productName"), SellerName: q.Get("sellerName"), BuyerName: q.Get("buyerName")}
	if raw := q.Get("status"); raw != "" {
		st, ok := ParseStatus(raw)
		if !ok {
			return Listing{}, ErrStatus
		}
		f.Status = st
	}
	size, err := page.Size(q, DefaultListSize, MaxListSize)
	if err != nil {
		return Listing{}, err
	}
	p, err := s.read.List(ctx, who, f, size, q.Get("cursor"))
	if err != nil {
		return Listing{}, err
	}
	return Listing{Page: &p}, nil
}
