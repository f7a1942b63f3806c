// Package products holds the product domain: a product sold as a time deal, its state
// machine and its store in the products schema.
package products

import (
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/events"
	"github.com/8949market/market/shared/fault"
	"github.com/8949market/market/shared/postgres"
)

// Status is a product's state.
type Status string

// The product states. PENDING_RESERVATION and RESERVING are also derived from the clock:
// the deal opens at start_time whatever the stored column says.
const (
	PendingReservation Status = "PENDING_RESERVATION" // before the window opens
	Reserving          Status = "RESERVING"           // window open
	InTrade            Status = "IN_TRADE"
	Completed          Status = "COMPLETED"
	SaleCanceled       Status = "SALE_CANCELED"
	Expired            Status = "EXPIRED" // window closed with no trade
	Failed             Status = "FAILED"  // the deal could not be opened; see FailureReason
)

// ParseStatus reads a status name.
func ParseStatus(s string) (Status, bool) {
	st := Status(strings.ToUpper(strings.TrimSpace(s)))
	switch st {
	case PendingReservation, Reserving, InTrade, Completed, SaleCanceled, Expired, Failed:
		return st, true
	}
	return "", false
}

// Limits of a product's fields.
const (
	MaxNameLength        = 100
	MaxDescriptionLength = 2000
	MaxPrice             = 1_000_000_000
	MinWindow            = 15 * time.Minute
	// ChangeFreeze closes information and schedule changes this long before the deal
	// opens, so the reservation's copy of the window is current before anyone can apply.
	ChangeFreeze = time.Minute
)

// The product faults (reference section 5.4, statuses corrected: not the owner is 403,
// bad input is 400; no identity is fault.ErrUnauthenticated, C002, checked by
// the adapter, endpoint.Handle).
var (
	ErrNotFound         = fault.New(fault.NotFound, "P001", "product not found")
	ErrPrice            = fault.New(fault.Invalid, "P002", "price must be a positive whole number up to 1,000,000,000")
	ErrEndBeforeStart   = fault.New(fault.Invalid, "P003", "endTime must be after startTime")
	ErrStartInPast      = fault.New(fault.Invalid, "P004", "startTime must be in the future")
	ErrStateChange      = fault.New(fault.Conflict, "P005", "the product's state does not allow this change")
	ErrScheduleLocked   = fault.New(fault.Conflict, "P006", "the schedule can no longer be changed")
	ErrWindowTooShort   = fault.New(fault.Invalid, "P007", "endTime must be at least 15 minutes after startTime")
	ErrName             = fault.New(fault.Invalid, "P008", "name is required, at most 100 characters")
	ErrForbidden        = fault.New(fault.Forbidden, "P009", "only the seller or an administrator may change this product")
	ErrDescription      = fault.New(fault.Invalid, "P011", "description must be at most 2000 characters")
	ErrScheduleRequired = fault.New(fault.Invalid, "P012", "startTime and endTime are required")
	ErrNothingToUpdate  = fault.ErrValidation.WithMessage("nothing to update: give at least one field")
)

// Product is one listing sold as a time deal.
type Product struct {
	ID             uuid.UUID
	SellerID       uuid.UUID
	SellerNickname string
	Name           string
	Description    string
	Price          int64
	Status         Status // as stored; see EffectiveStatus
	StartTime      time.Time
	EndTime        time.Time
	CreatedAt      time.Time
	ModifiedAt     time.Time
	ModifiedBy     uuid.UUID
	DeletedAt      *time.Time
	DeletedBy      *uuid.UUID
	// BuyerID is the reservation's current buyer, as its events said.
	BuyerID *uuid.UUID
	// ReservationVersion is the newest reservation event applied.
	ReservationVersion int64
	FailureReason      string
	FailedAt           *time.Time

	pending []pendingEvent // events the changes announce, written with them
}

type pendingEvent struct {
	topic string
	data  any
}

func (p *Product) announce(topic string, data any) {
	p.pending = append(p.pending, pendingEvent{topic, data})
}

// Draft is what a seller submits to list a product.
type Draft struct {
	Name        *string    `json:"name"`
	Description *string    `json:"description"`
	Price       *int64     `json:"price"`
	StartTime   *time.Time `json:"startTime"`
	EndTime     *time.Time `json:"endTime"`
}

// New validates d and returns the product the seller lists at now. Times are kept in UTC
// at the database's microsecond precision.
func New(d Draft, sellerID uuid.UUID, sellerNickname string, now time.Time) (Product, error) {
	now = postgres.Time(now)
	p := Product{
		ID:             uuid.New(),
		SellerID:       sellerID,
		SellerNickname: sellerNickname,
		Status:         PendingReservation,
		CreatedAt:      now,
		ModifiedAt:     now,
		ModifiedBy:     sellerID,
	}
	if d.Name == nil {
		return Product{}, ErrName.OnField("name")
	}
	p.Name = strings.TrimSpace(*d.Name)
	if p.Name == "" || utf8.RuneCountInString(p.Name) > MaxNameLength {
		return Product{}, ErrName.OnField("name")
	}
	if d.Description != nil {
		p.Description = strings.TrimSpace(*d.Description)
		if utf8.RuneCountInString(p.Description) > MaxDescriptionLength {
			return Product{}, ErrDescription.OnField("description")
		}
	}
	if d.Price == nil || *d.Price <= 0 || *d.Price > MaxPrice {
		return Product{}, ErrPrice.OnField("price")
	}
	p.Price = *d.Price
	if d.StartTime == nil {
		return Product{}, ErrScheduleRequired.OnField("startTime")
	}
	if d.EndTime == nil {
		return Product{}, ErrScheduleRequired.OnField("endTime")
	}
	p.StartTime = d.StartTime.UTC().Truncate(time.Microsecond)
	p.EndTime = d.EndTime.UTC().Truncate(time.Microsecond)
	if err := checkWindow(p.StartTime, p.EndTime, now); err != nil {
		return Product{}, err
	}
	return p, nil
}

func checkWindow(start, end, now time.Time) error {
	switch {
	case !start.After(now):
		return ErrStartInPast.OnField("startTime")
	case !end.After(start):
		return ErrEndBeforeStart.OnField("endTime")
	case end.Sub(start) < MinWindow:
		return ErrWindowTooShort.OnField("endTime")
	}
	return nil
}

// EffectiveStatus is the state at now, whatever a scheduler has or has not written: the
// window opens at StartTime and closes at EndTime to the microsecond; a deal whose window
// closed while a buyer holds the reservation stays RESERVING until the trade settles it.
func (p Product) EffectiveStatus(now time.Time) Status {
	switch p.Status {
	case PendingReservation, Reserving:
		switch {
		case now.Before(p.StartTime):
			return PendingReservation
		case now.Before(p.EndTime) || p.BuyerID != nil:
			return Reserving
		default:
			return Expired
		}
	default:
		return p.Status
	}
}

// mayChange is the owner-or-admin rule, by id.
func (p *Product) mayChange(caller auth.Identity) error {
	if caller.Owns(p.SellerID) || caller.IsAdmin() {
		return nil
	}
	return ErrForbidden
}

// editable is the rule for information and schedule changes: only before the deal opens
// (and ChangeFreeze before that), so no one has applied yet.
func (p *Product) editable(now time.Time, locked *fault.Error) error {
	if p.Status != PendingReservation || p.DeletedAt != nil {
		return ErrStateChange
	}
	if !now.Before(p.StartTime.Add(-ChangeFreeze)) {
		return locked
	}
	return nil
}

// Change is an information change; absent fields stay.
type Change struct {
	Name        *string `json:"name"`
	Description *string `json:"description"`
	Price       *int64  `json:"price"`
}

// Update applies an information change by caller (the seller or an administrator).
func (p *Product) Update(c Change, caller auth.Identity, now time.Time) error {
	if err := p.mayChange(caller); err != nil {
		return err
	}
	if c.Name == nil && c.Description == nil && c.Price == nil {
		return ErrNothingToUpdate
	}
	if err := p.editable(now, ErrStateChange.WithMessage("the deal opens within a minute or has opened; it can no longer be changed")); err != nil {
		return err
	}
	if c.Name != nil {
		name := strings.TrimSpace(*c.Name)
		if name == "" || utf8.RuneCountInString(name) > MaxNameLength {
			return ErrName.OnField("name")
		}
		p.Name = name
	}
	if c.Description != nil {
		d := strings.TrimSpace(*c.Description)
		if utf8.RuneCountInString(d) > MaxDescriptionLength {
			return ErrDescription.OnField("description")
		}
		p.Description = d
	}
	if c.Price != nil {
		if *c.Price <= 0 || *c.Price > MaxPrice {
			return ErrPrice.OnField("price")
		}
		p.Price = *c.Price
	}
	p.touch(caller.UserID, now)
	p.announceUpdate()
	return nil
}

// Schedule is a new window.
type Schedule struct {
	StartTime *time.Time `json:"startTime"`
	EndTime   *time.Time `json:"endTime"`
}

// Reschedule moves the window, by caller (the seller or an administrator).
func (p *Product) Reschedule(s Schedule, caller auth.Identity, now time.Time) error {
	if err := p.mayChange(caller); err != nil {
		return err
	}
	if s.StartTime == nil {
		return ErrScheduleRequired.OnField("startTime")
	}
	if s.EndTime == nil {
		return ErrScheduleRequired.OnField("endTime")
	}
	if err := p.editable(now, ErrScheduleLocked); err != nil {
		return err
	}
	start, end := s.StartTime.UTC().Truncate(time.Microsecond), s.EndTime.UTC().Truncate(time.Microsecond)
	if err := checkWindow(start, end, now); err != nil {
		return err
	}
	p.StartTime, p.EndTime = start, end
	p.touch(caller.UserID, now)
	p.announceUpdate()
	return nil
}

// Cancel ends the sale on caller's request; with remove it also deletes the listing. A
// deal can be cancelled only before it goes to a trade; an ended deal (expired, cancelled,
// failed) can still be removed from view.
func (p *Product) Cancel(caller auth.Identity, now time.Time, remove bool) error {
	if err := p.mayChange(caller); err != nil {
		return err
	}
	// The clock decides, not the stored column: a deal whose window closed with no buyer
	// has ended whether or not products-tick has noticed.
	switch p.EffectiveStatus(now) {
	case PendingReservation, Reserving:
		p.Status = SaleCanceled
		p.BuyerID = nil
		p.announce(events.ProductCancelled, events.ProductCancelledData{ProductID: p.ID, Deleted: remove, By: caller.UserID})
	case Expired, SaleCanceled, Failed:
		if !remove {
			return ErrStateChange.WithMessage("the deal has already ended")
		}
		if p.Status == PendingReservation || p.Status == Reserving {
			p.Status = Expired // what the tick would have written
		}
	default: // IN_TRADE, COMPLETED: the trade decides
		return ErrStateChange.WithMessage("a product in a trade or sold cannot be cancelled")
	}
	if remove {
		at, by := postgres.Time(now), caller.UserID
		p.DeletedAt, p.DeletedBy = &at, &by
	}
	p.touch(caller.UserID, now)
	return nil
}

// Open moves a deal whose window has opened to RESERVING (products-tick).
func (p *Product) Open(now time.Time) bool {
	if p.Status != PendingReservation || now.Before(p.StartTime) {
		return false
	}
	p.Status = Reserving
	p.touch(uuid.Nil, now)
	p.announceUpdate()
	return true
}

// Expire ends a deal whose window closed with no buyer (products-tick).
func (p *Product) Expire(now time.Time) bool {
	if (p.Status != PendingReservation && p.Status != Reserving) || p.BuyerID != nil || now.Before(p.EndTime) {
		return false
	}
	p.Status = Expired
	p.touch(uuid.Nil, now)
	p.announceUpdate()
	return true
}

// newer reports whether a reservation event of version v is newer than what p has seen,
// and records it.
func (p *Product) newer(v int64) bool {
	if v <= p.ReservationVersion {
		return false
	}
	p.ReservationVersion = v
	return true
}

// ReservationApplied records the reservation's new buyer: the deal will not expire while
// that buyer pays and trades. After a cancelled trade the product is on sale again.
func (p *Product) ReservationApplied(v int64, buyer uuid.UUID, now time.Time) bool {
	if !p.newer(v) {
		return false
	}
	switch p.Status {
	case PendingReservation, Reserving, InTrade, Expired:
		p.Status = Reserving
		p.BuyerID = &buyer
		p.touch(uuid.Nil, now)
		return true
	}
	return false
}

// ReservationCompleted moves the deal to its trade.
func (p *Product) ReservationCompleted(v int64, now time.Time) bool {
	if !p.newer(v) {
		return false
	}
	switch p.Status {
	case PendingReservation, Reserving, Expired:
		p.Status = InTrade
		p.touch(uuid.Nil, now)
		return true
	}
	return false
}

// ReservationCancelled drops the buyer: the deal is on sale again while its window is
// open, and expired once it has closed.
func (p *Product) ReservationCancelled(v int64, now time.Time) bool {
	if !p.newer(v) {
		return false
	}
	switch p.Status {
	case PendingReservation, Reserving, InTrade:
		p.reopen(now)
		return true
	}
	return false
}

// TradeCompleted marks the product sold.
func (p *Product) TradeCompleted(now time.Time) bool {
	if p.Status != InTrade {
		return false
	}
	p.Status = Completed
	p.BuyerID = nil
	p.touch(uuid.Nil, now)
	return true
}

// TradeCancelled takes the deal back from its trade; the reservation's next events say
// whether another applicant takes it (reservation-applied) or it ends.
func (p *Product) TradeCancelled(now time.Time) bool {
	if p.Status != InTrade {
		return false
	}
	p.reopen(now)
	return true
}

// TradeFailed records that a trade could not be opened for the deal, for administrators
// to see, and takes the deal back from the trade as a cancelled trade would.
func (p *Product) TradeFailed(reason string, now time.Time) bool {
	p.fail(reason, now)
	if p.Status == InTrade {
		p.reopen(now)
	}
	return true
}

// DealFailed marks a deal whose reservation could not be opened: it cannot be sold.
func (p *Product) DealFailed(reason string, now time.Time) bool {
	switch p.Status {
	case PendingReservation, Reserving:
		p.fail(reason, now)
		p.Status = Failed
		p.BuyerID = nil
		return true
	}
	p.fail(reason, now)
	return true
}

func (p *Product) fail(reason string, now time.Time) {
	at := postgres.Time(now)
	p.FailureReason, p.FailedAt = reason, &at
	p.touch(uuid.Nil, now)
}

func (p *Product) reopen(now time.Time) {
	p.BuyerID = nil
	if now.Before(p.EndTime) {
		p.Status = Reserving
		if now.Before(p.StartTime) {
			p.Status = PendingReservation
		}
	} else {
		p.Status = Expired
	}
	p.touch(uuid.Nil, now)
}

func (p *Product) touch(by uuid.UUID, now time.Time) {
	p.ModifiedAt = postgres.Time(now)
	if by != uuid.Nil {
		p.ModifiedBy = by
	}
}

func (p *Product) announceUpdate() {
	p.announce(events.ProductUpdated, events.ProductUpdatedData{
		ProductID: p.ID, Name: p.Name, Price: p.Price,
		StartTime: p.StartTime, EndTime: p.EndTime, Status: string(p.Status),
	})
}
