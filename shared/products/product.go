// Package products holds the product domain: a product sold as a time deal, its state
// machine and its store in the products schema.
package products

import (
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/8949market/market/shared/fault"
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
)

// Limits of a product's fields.
const (
	MaxNameLength        = 100
	MaxDescriptionLength = 2000
	MaxPrice             = 1_000_000_000
	MinWindow            = 15 * time.Minute
)

// The product faults (reference section 5.4, statuses corrected: no identity is 401, not
// the owner is 403, bad input is 400).
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
	ErrUnauthenticated  = fault.New(fault.Unauthenticated, "P010", "authentication required")
	ErrDescription      = fault.New(fault.Invalid, "P011", "description must be at most 2000 characters")
	ErrScheduleRequired = fault.New(fault.Invalid, "P012", "startTime and endTime are required")
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
}

// Draft is what a seller submits to list a product.
type Draft struct {
	Name        *string
	Description *string
	Price       *int64
	StartTime   *time.Time
	EndTime     *time.Time
}

// New validates d and returns the product the seller lists at now. Times are kept in UTC
// at the database's microsecond precision.
func New(d Draft, sellerID uuid.UUID, sellerNickname string, now time.Time) (Product, error) {
	p := Product{
		ID:             uuid.New(),
		SellerID:       sellerID,
		SellerNickname: sellerNickname,
		Status:         PendingReservation,
		CreatedAt:      now,
		ModifiedAt:     now,
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
// window opens at StartTime and closes at EndTime to the microsecond.
func (p Product) EffectiveStatus(now time.Time) Status {
	switch p.Status {
	case PendingReservation, Reserving:
		switch {
		case now.Before(p.StartTime):
			return PendingReservation
		case now.Before(p.EndTime):
			return Reserving
		default:
			return Expired
		}
	default:
		return p.Status
	}
}
