package reservations

import (
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/events"
	"github.com/8949market/market/shared/fault"
)

// More faults of the reservation lifecycle.
var (
	ErrReasonRequired = fault.New(fault.Invalid, "R001", "reason is required")
	ErrForbidden      = fault.New(fault.Forbidden, "R005", "you may not do this to this reservation")
	ErrNotApplied     = fault.New(fault.Conflict, "R003", "you are not waiting in this reservation's queue")
)

// Clock is when a change happens and how long a buyer it selects has to pay.
type Clock struct {
	Now           time.Time
	PaymentWindow time.Duration
}

// Waiting is an application in the queue, as the store reads it under the row lock.
type Waiting struct {
	Position int64
	UserID   uuid.UUID
	Nickname string
	Status   string
}

// changes are what the rules did to a reservation, for the store to write with it in one
// transaction: the row (dirty), its applications, its history and its events, in order.
type changes struct {
	dirty        bool
	applications []applicationChange
	history      []transition
	events       []events.ReservationData
	topics       []string
}

// applicationChange sets the application at position to status; all: every open one.
type applicationChange struct {
	position int64
	all      bool
	status   string
}

// transition is a history row.
type transition struct {
	from, to Status
	comment  string
	by       *uuid.UUID
}

// pending reports whether the rules changed anything the store must write.
func (c *changes) pending() bool {
	return c.dirty || len(c.applications) > 0 || len(c.history) > 0 || len(c.events) > 0
}

// move records a transition: status, version, history.
func (r *Reservation) move(to Status, by *uuid.UUID, comment string) {
	r.history = append(r.history, transition{from: r.Status, to: to, comment: comment, by: by})
	r.Status = to
	r.Version++
	r.dirty = true
}

// announce collects one of the reservation's events with its current state.
func (r *Reservation) announce(topic, reason string) {
	var buyer *uuid.UUID
	if r.BuyerID != nil {
		b := *r.BuyerID
		buyer = &b
	}
	r.topics = append(r.topics, topic)
	r.events = append(r.events, events.ReservationData{
		ReservationID: r.ID, ProductID: r.ProductID, Version: r.Version, Status: string(r.Status),
		SellerID: r.SellerID, SellerNickname: r.SellerNickname, BuyerID: buyer, BuyerNickname: r.BuyerNickname, Price: r.ProductPrice,
		ProductName: r.ProductName,
		Reason:      reason,
	})
}

func (r *Reservation) setApplication(position int64, status string) {
	r.applications = append(r.applications, applicationChange{position: position, status: status})
}

// dropBuyer marks the current buyer's application CANCELLED and clears the buyer.
func (r *Reservation) dropBuyer() {
	if r.BuyerPosition != nil {
		r.setApplication(*r.BuyerPosition, "CANCELLED")
	}
	r.clearBuyer()
}

func (r *Reservation) clearBuyer() {
	r.BuyerID, r.BuyerNickname, r.BuyerPosition, r.PaymentDeadline = nil, "", nil, nil
	r.dirty = true
}

// promote gives the reservation to the next waiting applicant (PENDING, a new payment
// deadline, reservation-applied). With nobody waiting, the deal is open again while its
// window is, and ends otherwise; either way reservation-cancelled tells the product.
func (r *Reservation) promote(c Clock, by *uuid.UUID, why string) {
	if n := r.next; n != nil {
		r.next = nil
		r.setApplication(n.Position, "SELECTED")
		user, pos := n.UserID, n.Position
		deadline := c.Now.Add(c.PaymentWindow).UTC().Truncate(time.Microsecond)
		r.BuyerID, r.BuyerNickname, r.BuyerPosition, r.PaymentDeadline = &user, n.Nickname, &pos, &deadline
		r.move(Pending, by, why+"; next applicant selected")
		r.announce(events.ReservationApplied, why)
		return
	}
	if c.Now.Before(r.EndTime) {
		r.move(Available, by, why+"; nobody waiting, open again")
	} else {
		r.move(Cancelled, by, why+"; nobody waiting and the deal has ended")
	}
	r.announce(events.ReservationCancelled, why)
}

// close ends a reservation that has not gone to a trade: every open application is
// cancelled and reservation-cancelled tells the product.
func (r *Reservation) close(by *uuid.UUID, why string) error {
	switch r.Status {
	case Available, Pending, Paid:
	default:
		return ErrClosed.WithMessage("the reservation has already gone to a trade or ended")
	}
	r.applications = append(r.applications, applicationChange{all: true, status: "CANCELLED"})
	r.clearBuyer()
	r.move(Cancelled, by, why)
	r.announce(events.ReservationCancelled, why)
	return nil
}

// MaxReasonLength is the longest reason a step takes, in bytes of UTF-8 once trimmed.
const MaxReasonLength = 500

// reason checks a step's reason: required, at most MaxReasonLength bytes.
func reason(r string) (string, error) {
	r = strings.TrimSpace(r)
	if r == "" {
		return "", ErrReasonRequired.OnField("reason")
	}
	if len(r) > MaxReasonLength {
		return "", fault.ErrValidation.WithMessage("reason must be at most 500 characters").OnField("reason")
	}
	return r, nil
}

// CancelByBuyer withdraws the buyer (the buyer or an administrator) before the trade; the
// next applicant is promoted. why is a checked reason.
func (r *Reservation) CancelByBuyer(caller auth.Identity, why string, c Clock) error {
	isBuyer := r.BuyerID != nil && caller.Owns(*r.BuyerID)
	if !isBuyer && !caller.IsAdmin() {
		return ErrForbidden
	}
	if r.Status != Pending && r.Status != Paid {
		return ErrClosed.WithMessage("only a reservation awaiting payment or completion can be cancelled by its buyer")
	}
	r.dropBuyer()
	r.promote(c, &caller.UserID, "buyer cancelled: "+why)
	return nil
}

// Leave takes the caller's application (read by Store.UpdateAs) out of the queue; only a
// waiting one can leave.
func (r *Reservation) Leave() error {
	if r.mine == nil || r.mine.Status != "WAITING" {
		return ErrNotApplied
	}
	r.setApplication(r.mine.Position, "LEFT")
	r.mine.Status = "LEFT"
	return nil
}

// ConfirmPayment records the buyer's payment before the deadline.
func (r *Reservation) ConfirmPayment(caller auth.Identity, now time.Time) error {
	if r.Status != Pending {
		return ErrClosed.WithMessage("only a reservation awaiting payment can be paid")
	}
	if r.PaymentDeadline != nil && !now.Before(*r.PaymentDeadline) {
		return ErrClosed.WithMessage("the payment deadline has passed")
	}
	r.PaymentDeadline = nil
	r.move(Paid, &caller.UserID, "payment confirmed")
	return nil
}

// Complete hands a paid reservation to its trade (the seller or an administrator):
// reservation-completed carries both parties for the trade.
func (r *Reservation) Complete(caller auth.Identity) error {
	if !caller.Owns(r.SellerID) && !caller.IsAdmin() {
		return ErrForbidden
	}
	if r.Status != Paid {
		return ErrClosed.WithMessage("only a paid reservation can be completed")
	}
	r.move(Completed, &caller.UserID, "seller completed; trade opens")
	r.announce(events.ReservationCompleted, "")
	return nil
}

// CancelBySeller ends the reservation (the seller or an administrator) before the trade.
// why is a checked reason.
func (r *Reservation) CancelBySeller(caller auth.Identity, why string) error {
	if !caller.Owns(r.SellerID) && !caller.IsAdmin() {
		return ErrForbidden
	}
	return r.close(&caller.UserID, "seller cancelled: "+why)
}

// ExpirePayment ends the buyer's turn (by an administrator, or nil: the clock); the next
// applicant is promoted.
func (r *Reservation) ExpirePayment(by *uuid.UUID, why string, c Clock) error {
	if r.Status != Pending {
		return ErrClosed.WithMessage("only a reservation awaiting payment can expire")
	}
	r.dropBuyer()
	r.promote(c, by, why)
	return nil
}

// ProductUpdated copies a product's new information and window, while nobody has applied
// (products allows changes only before the deal opens).
func (r *Reservation) ProductUpdated(d events.ProductUpdatedData) {
	if r.Status != Available || r.BuyerID != nil {
		return
	}
	if d.Name != "" {
		r.ProductName = d.Name
	}
	if d.Price > 0 {
		r.ProductPrice = d.Price
	}
	if !d.StartTime.IsZero() && d.EndTime.After(d.StartTime) {
		r.StartTime, r.EndTime = d.StartTime, d.EndTime
	}
	r.dirty = true
}

// ProductCancelled ends the reservation of a cancelled or deleted product. It reports
// lost when the cancellation lost the race to the trade (the seller completed the
// reservation before products saw it): the trade goes on, and nothing changes.
func (r *Reservation) ProductCancelled() (lost bool, err error) {
	switch r.Status {
	case Cancelled:
		return false, nil
	case Completed, Closed:
		return true, nil
	}
	return false, r.close(nil, "the product was cancelled")
}

// TradeCompleted closes the reservation of a completed trade.
func (r *Reservation) TradeCompleted() {
	if r.Status != Completed {
		return // already closed, or not this reservation's trade any more
	}
	r.move(Closed, nil, "trade completed")
}

// TakeBack takes the reservation back from a trade that was cancelled or never opened:
// the next applicant is promoted, or the deal reopens or ends.
func (r *Reservation) TakeBack(why string, c Clock) {
	if r.Status != Completed {
		return
	}
	r.dropBuyer()
	r.promote(c, nil, why)
}

// ExpireIfDue ends the buyer's turn once the payment deadline has passed.
func (r *Reservation) ExpireIfDue(c Clock) bool {
	if r.Status != Pending || r.PaymentDeadline == nil || c.Now.Before(*r.PaymentDeadline) {
		return false
	}
	r.dropBuyer()
	r.promote(c, nil, "payment deadline passed")
	return true
}

// EndIfDue ends an open deal whose window has closed: an applicant from inside the window
// still gets it, otherwise it is over.
func (r *Reservation) EndIfDue(c Clock) bool {
	if r.Status != Available || c.Now.Before(r.EndTime) {
		return false
	}
	if r.next != nil {
		r.promote(c, nil, "deal ended with applicants waiting")
		return true
	}
	return r.close(nil, "the deal ended with no buyer") == nil
}

// Repair gives an open reservation with people waiting but no buyer its buyer.
func (r *Reservation) Repair(c Clock) bool {
	if r.Status != Available || r.BuyerID != nil {
		return false
	}
	r.promote(c, nil, "queue without a buyer repaired")
	return true
}
