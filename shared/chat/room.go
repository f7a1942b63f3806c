package chat

import (
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/8949market/market/shared/events"
	"github.com/8949market/market/shared/fault"
)

// ErrEnded refuses the other end of a trade whose room has ended already: a trade ends
// once, so the events disagree, and the first end is kept.
var ErrEnded = fault.New(fault.Conflict, "CH013", "the room has already ended otherwise")

// pendingEvent is an event a rule announced, written with the room.
type pendingEvent struct {
	topic string
	data  any
}

// NewRoom is the room of the trade d describes, open (TRADING), its creation announced
// (chat-room-created). A trade event without the fields a room needs is refused with
// CH012.
func NewRoom(d events.TradeData) (Room, error) {
	switch {
	case d.TradeID == uuid.Nil:
		return Room{}, ErrTradeEvent.WithMessage("tradeId is required").OnField("tradeId")
	case d.ProductID == uuid.Nil:
		return Room{}, ErrTradeEvent.WithMessage("productId is required").OnField("productId")
	case d.SellerID == uuid.Nil:
		return Room{}, ErrTradeEvent.WithMessage("sellerId is required").OnField("sellerId")
	case d.BuyerID == uuid.Nil:
		return Room{}, ErrTradeEvent.WithMessage("buyerId is required").OnField("buyerId")
	case d.BuyerID == d.SellerID:
		return Room{}, ErrTradeEvent.WithMessage("buyer and seller must differ")
	}
	r := Room{
		ID: uuid.New(), TradeID: d.TradeID, ProductID: d.ProductID, ProductName: d.ProductName,
		SellerID: d.SellerID, SellerNickname: d.SellerNickname, BuyerID: d.BuyerID, BuyerNickname: d.BuyerNickname,
		Status: Trading,
	}
	r.pending = append(r.pending, pendingEvent{events.ChatRoomCreated, events.ChatRoomCreatedData{RoomID: r.ID, TradeID: r.TradeID}})
	return r, nil
}

// End moves an open room to its trade's end (COMPLETED or CANCELLED) at now: the room
// becomes read-only. A room already at that end stays as it is (changed is false); one at
// the other end is ErrEnded.
func (r *Room) End(to Status, now time.Time) (changed bool, err error) {
	if to != Completed && to != Cancelled {
		return false, fmt.Errorf("close room: %q is not an end", to)
	}
	switch r.Status {
	case Trading:
		r.Status, r.ClosedAt = to, &now
		return true, nil
	case to:
		return false, nil
	}
	return false, ErrEnded.WithMessage("the room of trade %s is already %s, not %s", r.TradeID, r.Status, to)
}
