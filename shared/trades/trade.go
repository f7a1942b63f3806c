// Package trades is the trade domain: the trade a completed reservation opens between
// its buyer and seller, each party's completion, cancellation with a reason valid for the
// canceller's side, and the events that tell the reservation, the product and the chat.
// It owns the trades schema.
package trades

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/events"
	"github.com/8949market/market/shared/fault"
	"github.com/8949market/market/shared/outbox"
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
	Version        int64      `json:"version"`
	CreatedAt      time.Time  `json:"createdAt"`
	ModifiedAt     time.Time  `json:"updatedAt"`
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

// Store keeps trades in the trades schema.
type Store struct {
	db *pgxpool.Pool
}

// NewStore returns a store on db.
func NewStore(db *pgxpool.Pool) *Store { return &Store{db: db} }

const tradeColumns = `id, reservation_id, status, buyer_id, buyer_nickname, buyer_status, seller_id, seller_nickname,
	seller_status, product_id, product_name, product_price, chat_room_id, version, created_at, modified_at`

func scan(row pgx.Row) (Trade, error) {
	var t Trade
	err := row.Scan(&t.ID, &t.ReservationID, &t.Status, &t.BuyerID, &t.BuyerNickname, &t.BuyerStatus, &t.SellerID,
		&t.SellerNickname, &t.SellerStatus, &t.ProductID, &t.ProductName, &t.ProductPrice, &t.ChatRoomID, &t.Version,
		&t.CreatedAt, &t.ModifiedAt)
	t.CreatedAt, t.ModifiedAt = t.CreatedAt.UTC(), t.ModifiedAt.UTC()
	return t, err
}

func (t Trade) data(reason string) events.TradeData {
	return events.TradeData{
		TradeID: t.ID, ReservationID: t.ReservationID, ProductID: t.ProductID, ProductName: t.ProductName,
		SellerID: t.SellerID, SellerNickname: t.SellerNickname, BuyerID: t.BuyerID, BuyerNickname: t.BuyerNickname,
		Reason: reason,
	}
}

func emit(ctx context.Context, tx pgx.Tx, topic string, t Trade, reason string) error {
	return outbox.Write(ctx, tx, outbox.Event{Topic: topic, Source: events.SourceTrades, AggregateID: t.ID.String(), Data: t.data(reason)})
}

func history(ctx context.Context, tx pgx.Tx, id uuid.UUID, from *Status, to Status, actor *uuid.UUID, side Side, reasonType, detail string) error {
	_, err := tx.Exec(ctx, `
		INSERT INTO trades.history (id, trade_id, previous_status, new_status, actor_id, actor_side, cancel_reason_type, cancel_reason_detail)
		VALUES ($1, $2, $3, $4, $5, $6, nullif($7, ''), nullif($8, ''))`,
		uuid.New(), id, from, to, actor, side, reasonType, detail)
	if err != nil {
		return fmt.Errorf("write trade history: %w", err)
	}
	return nil
}

// Open creates the trade of a completed reservation in tx, once per reservation however
// often the event comes, and announces it (trade-created). A reservation that cannot
// become a trade (no buyer, buyer and seller the same, no positive price) is answered
// with reservation-tradefail in the same transaction, so nothing waits for it.
func Open(ctx context.Context, tx pgx.Tx, d events.ReservationData) error {
	if d.ReservationID == uuid.Nil {
		return ErrReservationID.Wrap(errors.New("open trade: reservation-completed without a reservationId"))
	}
	// A reservation that cannot be a trade is answered, not retried: each rule names its
	// code in the reason reservation-tradefail carries.
	var why string
	if f := validate(d); f != nil {
		why = f.Code + ": " + f.Message
	}
	if why != "" {
		return outbox.Write(ctx, tx, outbox.Event{
			Topic: events.ReservationTradeFail, Source: events.SourceTrades, AggregateID: d.ReservationID.String(),
			Data: events.ReservationTradeFailData{ReservationID: d.ReservationID, ProductID: d.ProductID, Reason: why},
		})
	}
	t := Trade{
		ID: uuid.New(), ReservationID: d.ReservationID, Status: Trading, BuyerID: *d.BuyerID,
		BuyerNickname: nonEmpty(d.BuyerNickname, "buyer"), BuyerStatus: Trading, SellerID: d.SellerID,
		SellerNickname: nonEmpty(d.SellerNickname, "seller"), SellerStatus: Trading, ProductID: d.ProductID,
		ProductName: nonEmpty(d.ProductName, "product"), ProductPrice: d.Price,
	}
	tag, err := tx.Exec(ctx, `
		INSERT INTO trades.trades (id, reservation_id, product_id, product_name, product_price, buyer_id, buyer_nickname,
		                           seller_id, seller_nickname, status, buyer_status, seller_status)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'TRADING', 'TRADING', 'TRADING')
		ON CONFLICT (reservation_id) DO NOTHING`,
		t.ID, t.ReservationID, t.ProductID, t.ProductName, t.ProductPrice, t.BuyerID, t.BuyerNickname, t.SellerID, t.SellerNickname)
	if err != nil {
		return fmt.Errorf("open trade for reservation %s: %w", d.ReservationID, err)
	}
	if tag.RowsAffected() == 0 {
		return nil
	}
	if err := history(ctx, tx, t.ID, nil, Trading, nil, System, "", ""); err != nil {
		return err
	}
	return emit(ctx, tx, events.TradeCreated, t, "")
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

// RecordRoom stores the chat room of trade id (chat-room-created).
func RecordRoom(ctx context.Context, tx pgx.Tx, d events.ChatRoomCreatedData) error {
	_, err := tx.Exec(ctx, `UPDATE trades.trades SET chat_room_id = $2, modified_at = clock_timestamp() WHERE id = $1 AND chat_room_id IS NULL`,
		d.TradeID, d.RoomID)
	if err != nil {
		return fmt.Errorf("record chat room of trade %s: %w", d.TradeID, err)
	}
	return nil
}

// change runs fn on trade id under its row lock and writes the result: the lock makes
// concurrent completions and cancellations of one trade take turns, each deciding on
// the state the previous one left, so exactly one closes the trade.
func (s *Store) change(ctx context.Context, id uuid.UUID, fn func(tx pgx.Tx, t *Trade) error) (Trade, error) {
	var out Trade
	err := pgx.BeginFunc(ctx, s.db, func(tx pgx.Tx) error {
		t, err := scan(tx.QueryRow(ctx, `SELECT `+tradeColumns+` FROM trades.trades WHERE id = $1 FOR UPDATE`, id))
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("lock trade: %w", err)
		}
		if err := fn(tx, &t); err != nil {
			return err
		}
		t.Version++
		err = tx.QueryRow(ctx, `
			UPDATE trades.trades SET status = $2, buyer_status = $3, seller_status = $4, version = $5,
			       modified_at = clock_timestamp()
			 WHERE id = $1 RETURNING modified_at`, t.ID, t.Status, t.BuyerStatus, t.SellerStatus, t.Version).Scan(&t.ModifiedAt)
		if err != nil {
			return fmt.Errorf("write trade: %w", err)
		}
		t.ModifiedAt = t.ModifiedAt.UTC()
		out = t
		return nil
	})
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && (pgErr.Code == "40001" || pgErr.Code == "40P01") {
		return Trade{}, ErrConcurrent.Wrap(err)
	}
	return out, err
}

// Complete records caller's completion; the second party's completes the trade and
// announces it (trade-completed).
func Complete(ctx context.Context, s *Store, id uuid.UUID, caller auth.Identity) (Trade, error) {
	return s.Complete(ctx, id, caller)
}

// Cancellation is the body of a cancellation: a reason and, for ETC, a detail.
type Cancellation struct {
	ReasonType string `json:"cancelReasonType"`
	Detail     string `json:"cancelReasonDetail"`
}

// Cancel ends trade id on caller's request (see Store.Cancel).
func Cancel(ctx context.Context, s *Store, id uuid.UUID, caller auth.Identity, c Cancellation) (Trade, error) {
	return s.Cancel(ctx, id, caller, c.ReasonType, c.Detail)
}

// Complete is the store's side of Complete.
func (s *Store) Complete(ctx context.Context, id uuid.UUID, caller auth.Identity) (Trade, error) {
	return s.change(ctx, id, func(tx pgx.Tx, t *Trade) error {
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
		if t.BuyerStatus != Completed || t.SellerStatus != Completed {
			return nil
		}
		prev := t.Status
		t.Status = Completed
		if err := history(ctx, tx, t.ID, &prev, Completed, &caller.UserID, side, "", ""); err != nil {
			return err
		}
		return emit(ctx, tx, events.TradeCompleted, *t, "")
	})
}

// Cancel ends the trade on caller's request with a reason valid for the caller's side
// (ETC needs a detail), while it is trading; trade-cancelled lets the reservation move
// on to its next applicant.
func (s *Store) Cancel(ctx context.Context, id uuid.UUID, caller auth.Identity, reasonType, detail string) (Trade, error) {
	reasonType = strings.ToUpper(strings.TrimSpace(reasonType))
	detail = strings.TrimSpace(detail)
	if reasonType == "" {
		return Trade{}, ErrReasonRequired.OnField("cancelReasonType")
	}
	allowed, ok := reasons[reasonType]
	if !ok {
		return Trade{}, ErrUnknownReason.OnField("cancelReasonType")
	}
	if reasonType == "ETC" && detail == "" {
		return Trade{}, ErrDetailRequired.OnField("cancelReasonDetail")
	}
	if utf8.RuneCountInString(detail) > 1000 {
		return Trade{}, fault.ErrValidation.WithMessage("cancelReasonDetail must be at most 1000 characters").OnField("cancelReasonDetail")
	}
	return s.change(ctx, id, func(tx pgx.Tx, t *Trade) error {
		side, err := t.side(caller)
		if err != nil {
			return err
		}
		if !containsSide(allowed, side) {
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
		if err := history(ctx, tx, t.ID, &prev, Cancelled, &caller.UserID, side, reasonType, detail); err != nil {
			return err
		}
		why := strings.ToLower(string(side)) + ": " + reasonType
		if detail != "" {
			why += " (" + detail + ")"
		}
		return emit(ctx, tx, events.TradeCancelled, *t, why)
	})
}

func containsSide(sides []Side, s Side) bool {
	for _, x := range sides {
		if x == s {
			return true
		}
	}
	return false
}

// Get returns trade id to a participant or an administrator.
func (s *Store) Get(ctx context.Context, id uuid.UUID, caller auth.Identity) (Trade, error) {
	t, err := scan(s.db.QueryRow(ctx, `SELECT `+tradeColumns+` FROM trades.trades WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return Trade{}, ErrNotFound
	}
	if err != nil {
		return Trade{}, fmt.Errorf("get trade %s: %w", id, err)
	}
	if _, err := t.side(caller); err != nil {
		return Trade{}, err
	}
	return t, nil
}
