// Package trades is the trade domain: the trade a completed reservation opens between
// its buyer and seller, each party's completion, cancellation with a reason valid for the
// canceller's side, and the events that tell the reservation, the product and the chat.
// It owns the trades schema.
//
// A trade changes one way: a rule of Trade (Complete, Cancel, RecordRoom) changes the
// value and records its history and events on it, and the store (Store.Update, UpdateTx,
// CreateTx) runs the rule under the row lock and writes the row, the history and the
// events in one transaction.
package trades

import (
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/events"
	"github.com/8949market/market/shared/fault"
)

// Status is a trade's or a party's state.
type Status string

// The states.
const (
	Trading   Status = "TRADING"
	Completed Status = "COMPLETED"
	Cancelled Status = "CANCELLED"
)

// The trade faults: the reference's registered codes where they fit, T025–T028 for the
// keys the original used but never registered, and T029.
var (
	ErrProductID       = fault.New(fault.Invalid, "T001", "productId is required")
	ErrProductName     = fault.New(fault.Invalid, "T002", "productName is required")
	ErrProductNameLen  = fault.New(fault.Invalid, "T003", "productName must be at most 255 characters")
	ErrPrice           = fault.New(fault.Invalid, "T004", "the price must be positive")
	ErrPriceRange      = fault.New(fault.Invalid, "T005", "the price must be at most 1,000,000,000")
	ErrBuyerID         = fault.New(fault.Invalid, "T006", "buyerId is required")
	ErrBuyerName       = fault.New(fault.Invalid, "T007", "buyerName is required")
	ErrBuyerNameLen    = fault.New(fault.Invalid, "T008", "buyerName must be at most 255 characters")
	ErrSellerID        = fault.New(fault.Invalid, "T009", "sellerId is required")
	ErrSellerName      = fault.New(fault.Invalid, "T010", "sellerName is required")
	ErrSellerNameLen   = fault.New(fault.Invalid, "T011", "sellerName must be at most 255 characters")
	ErrParticipants    = fault.New(fault.Invalid, "T012", "a trade needs a buyer and a seller")
	ErrSamePerson      = fault.New(fault.Invalid, "T013", "buyer and seller must be different people")
	ErrTradeID         = fault.New(fault.Invalid, "T014", "tradeId is required")
	ErrNewStatus       = fault.New(fault.Invalid, "T015", "a new status is required")
	ErrItem            = fault.New(fault.Invalid, "T016", "the traded item is required")
	ErrReservationID   = fault.New(fault.Invalid, "T017", "reservationId is required")
	ErrEventDecode     = fault.New(fault.Invalid, "T022", "the reservation event could not be read")
	ErrEventProcess    = fault.New(fault.Internal, "T023", "the reservation event could not be processed")
	ErrEventPublish    = fault.New(fault.Internal, "T024", "the trade event could not be published")
	ErrReasonRequired  = fault.New(fault.Invalid, "T018", "cancelReasonType is required")
	ErrDetailRequired  = fault.New(fault.Invalid, "T019", "cancelReasonDetail is required for ETC")
	ErrReasonNotForYou = fault.New(fault.Invalid, "T020", "this reason is not available to your side of the trade")
	ErrUnknownReason   = fault.New(fault.Invalid, "T021", "unknown cancelReasonType")
	ErrNotFound        = fault.New(fault.NotFound, "T025", "trade not found")
	ErrClosed          = fault.New(fault.Conflict, "T026", "the trade is already closed")
	ErrNotParticipant  = fault.New(fault.Forbidden, "T027", "only the buyer, the seller or an administrator may do this")
	ErrConcurrent      = fault.New(fault.Conflict, "T028", "the trade changed at the same time; read it and try again")
	ErrAlreadyDone     = fault.New(fault.Conflict, "T029", "you have already completed this trade")
)

// Side is who acts on a trade.
type Side string

// The sides.
const (
	Buyer  Side = "BUYER"
	Seller Side = "SELLER"
	Admin  Side = "ADMIN"
	System Side = "SYSTEM"
)

// reasons maps each cancel reason to the sides that may give it.
var reasons = map[string][]Side{
	"CHANGE_OF_MIND":         {Buyer, Seller},
	"SCHEDULE_CONFLICT":      {Buyer, Seller},
	"ETC":                    {Buyer, Seller},
	"PRODUCT_ISSUE":          {Seller},
	"DUPLICATE_REGISTRATION": {Seller},
	"REFUND_REQUEST":         {Buyer},
	"POLICY_VIOLATION":       {Admin, System},
}

// Trade is a trade between a buyer and a seller.
type Trade struct {
	ID             uuid.UUID  `json:"tradeId"`
	ReservationID  uuid.UUID  `json:"reservationId"`
	Status         Status     `json:"tradeStatus"`
	BuyerID        uuid.UUID  `json:"buyerId"`
	BuyerNickname  string     `json:"buyerName"`
	BuyerStatus    Status     `json:"buyerStatus"`
	SellerID       uuid.UUID  `json:"sellerId"`
	SellerNickname string     `json:"sellerName"`
	SellerStatus   Status     `json:"sellerStatus"`
	ProductID      uuid.UUID  `json:"productId"`
	ProductName    string     `json:"productName"`
	ProductPrice   int64      `json:"productPrice"`
	ChatRoomID     *uuid.UUID `json:"chatRoomId,omitempty"`
	// Version counts the parties' changes.
	Version    int64     `json:"version"`
	CreatedAt  time.Time `json:"createdAt"`
	ModifiedAt time.Time `json:"updatedAt"`

	pending []transition // what the rules did, written with the trade
}

// transition is a change of the trade's status: its history row and the event that
// announces it.
type transition struct {
	from       *Status
	to         Status
	actor      *uuid.UUID
	side       Side
	reasonType string
	detail     string
	topic      string
	reason     string // the event's reason
}

func (t *Trade) record(tr transition) { t.pending = append(t.pending, tr) }

// New is the trade of completed reservation d, trading, its creation recorded
// (trade-created). A reservation that cannot become a trade is the rule it breaks.
func New(d events.ReservationData) (Trade, *fault.Error) {
	if f := validate(d); f != nil {
		return Trade{}, f
	}
	t := Trade{
		ID: uuid.New(), ReservationID: d.ReservationID, Status: Trading, BuyerID: *d.BuyerID,
		BuyerNickname: nonEmpty(d.BuyerNickname, "buyer"), BuyerStatus: Trading, SellerID: d.SellerID,
		SellerNickname: nonEmpty(d.SellerNickname, "seller"), SellerStatus: Trading, ProductID: d.ProductID,
		ProductName: nonEmpty(d.ProductName, "product"), ProductPrice: d.Price,
	}
	t.record(transition{to: Trading, side: System, topic: events.TradeCreated})
	return t, nil
}

// validate checks a completed reservation against the trade's rules.
func validate(d events.ReservationData) *fault.Error {
	switch {
	case d.ProductID == uuid.Nil:
		return ErrProductID
	case utf8.RuneCountInString(d.ProductName) > 255:
		return ErrProductNameLen
	case d.Price <= 0:
		return ErrPrice
	case d.Price > 1_000_000_000:
		return ErrPriceRange
	case d.BuyerID == nil || *d.BuyerID == uuid.Nil:
		return ErrBuyerID
	case utf8.RuneCountInString(d.BuyerNickname) > 255:
		return ErrBuyerNameLen
	case d.SellerID == uuid.Nil:
		return ErrSellerID
	case utf8.RuneCountInString(d.SellerNickname) > 255:
		return ErrSellerNameLen
	case *d.BuyerID == d.SellerID:
		return ErrSamePerson
	}
	return nil
}

func nonEmpty(s, fallback string) string {
	if strings.TrimSpace(s) == "" {
		return fallback
	}
	return s
}

// side is caller's side of t, by id; an administrator who is not a party acts as ADMIN.
func (t *Trade) side(caller auth.Identity) (Side, error) {
	switch {
	case caller.Owns(t.BuyerID):
		return Buyer, nil
	case caller.Owns(t.SellerID):
		return Seller, nil
	case caller.IsAdmin():
		return Admin, nil
	}
	return "", ErrNotParticipant
}

// Complete records caller's completion; the second party's completes the trade and
// announces it (trade-completed).
func (t *Trade) Complete(caller auth.Identity) error {
	side, err := t.side(caller)
	if err != nil {
		return err
	}
	if side == Admin {
		return ErrNotParticipant.WithMessage("only the buyer and the seller complete a trade")
	}
	if t.Status != Trading {
		return ErrClosed
	}
	mine := &t.BuyerStatus
	if side == Seller {
		mine = &t.SellerStatus
	}
	if *mine == Completed {
		return ErrAlreadyDone
	}
	*mine = Completed
	t.Version++
	if t.BuyerStatus != Completed || t.SellerStatus != Completed {
		return nil
	}
	prev := t.Status
	t.Status = Completed
	t.record(transition{from: &prev, to: Completed, actor: &caller.UserID, side: side, topic: events.TradeCompleted})
	return nil
}

// Cancellation is a request to cancel: a reason and, for ETC, a detail (omitempty: the
// reference shows it optional, as it is for every other reason).
type Cancellation struct {
	ReasonType string `json:"cancelReasonType"`
	Detail     string `json:"cancelReasonDetail,omitempty"`
}

// Check normalises the reason (trimmed, upper case) and the detail (trimmed) and checks
// them before any trade is read: present, known, ETC with a detail, a detail of at most
// 1000 characters.
func (c Cancellation) Check() (Cancellation, error) {
	c.ReasonType = strings.ToUpper(strings.TrimSpace(c.ReasonType))
	c.Detail = strings.TrimSpace(c.Detail)
	if c.ReasonType == "" {
		return c, ErrReasonRequired.OnField("cancelReasonType")
	}
	if _, ok := reasons[c.ReasonType]; !ok {
		return c, ErrUnknownReason.OnField("cancelReasonType")
	}
	if c.ReasonType == "ETC" && c.Detail == "" {
		return c, ErrDetailRequired.OnField("cancelReasonDetail")
	}
	if utf8.RuneCountInString(c.Detail) > 1000 {
		return c, fault.ErrValidation.WithMessage("cancelReasonDetail must be at most 1000 characters").OnField("cancelReasonDetail")
	}
	return c, nil
}

// Cancel ends the trade on caller's request with a checked cancellation c (Check) whose
// reason is valid for the caller's side, while it is trading; trade-cancelled lets the
// reservation move on to its next applicant.
func (t *Trade) Cancel(caller auth.Identity, c Cancellation) error {
	side, err := t.side(caller)
	if err != nil {
		return err
	}
	if !containsSide(reasons[c.ReasonType], side) {
		return ErrReasonNotForYou.OnField("cancelReasonType")
	}
	if t.Status != Trading {
		return ErrClosed
	}
	switch side {
	case Buyer:
		t.BuyerStatus = Cancelled
	case Seller:
		t.SellerStatus = Cancelled
	}
	prev := t.Status
	t.Status = Cancelled
	t.Version++
	why := strings.ToLower(string(side)) + ": " + c.ReasonType
	if c.Detail != "" {
		why += " (" + c.Detail + ")"
	}
	t.record(transition{from: &prev, to: Cancelled, actor: &caller.UserID, side: side,
		reasonType: c.ReasonType, detail: c.Detail, topic: events.TradeCancelled, reason: why})
	return nil
}

func containsSide(sides []Side, s Side) bool {
	for _, x := range sides {
		if x == s {
			return true
		}
	}
	return false
}

// RecordRoom keeps the trade's first chat room and says whether it was the first.
func (t *Trade) RecordRoom(roomID uuid.UUID) bool {
	if t.ChatRoomID != nil {
		return false
	}
	t.ChatRoomID = &roomID
	return true
}

// Visible says whether caller may read the trade: its parties and administrators.
func (t *Trade) Visible(caller auth.Identity) error {
	_, err := t.side(caller)
	return err
}

func (t Trade) data(reason string) events.TradeData {
	return events.TradeData{
		TradeID: t.ID, ReservationID: t.ReservationID, ProductID: t.ProductID, ProductName: t.ProductName,
		SellerID: t.SellerID, SellerNickname: t.SellerNickname, BuyerID: t.BuyerID, BuyerNickname: t.BuyerNickname,
		Reason: reason,
	}
}
