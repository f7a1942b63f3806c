// Package events is the event catalogue (DESIGN section 2): the topics, who produces them,
// and the payload of each. Topic names here are without the environment prefix; a topic
// on the stream is TOPIC_PREFIX + name, and its dead-letter topic that plus ".dlt".
package events

import (
	"time"

	"github.com/google/uuid"
)

// The topics of the catalogue.
const (
	ProductCreated       = "product-created"
	ProductUpdated       = "product-updated"
	ProductCancelled     = "product-cancelled"
	ProductFailed        = "product-failed"
	ReservationCompleted = "reservation-completed"
	ReservationCancelled = "reservation-cancelled"
	ReservationTradeFail = "reservation-tradefail"
	TradeCreated         = "trade-created"
	TradeCompleted       = "trade-completed"
	TradeCancelled       = "trade-cancelled"
	ChatRoomCreated      = "chat-room-created"
	ChatMessageSent      = "chat-message-sent"
)

// Topics lists every topic of the catalogue.
func Topics() []string {
	return []string{
		ProductCreated, ProductUpdated, ProductCancelled, ProductFailed,
		ReservationCompleted, ReservationCancelled, ReservationTradeFail,
		TradeCreated, TradeCompleted, TradeCancelled,
		ChatRoomCreated, ChatMessageSent,
	}
}

// DeadLetterSuffix names a topic's dead-letter topic: one convention for the relay's and
// the consumers' dead letters (the original had three).
const DeadLetterSuffix = ".dlt"

// The producing domains, the CloudEvent source of their events.
const (
	SourceProducts     = "products"
	SourceReservations = "reservations"
	SourceTrades       = "trades"
	SourceChat         = "chat"
)

// ProductCreatedData announces a new product: everything the reservation domain copies.
type ProductCreatedData struct {
	ProductID      uuid.UUID `json:"productId"`
	Name           string    `json:"name"`
	Price          int64     `json:"price"`
	SellerID       uuid.UUID `json:"sellerId"`
	SellerNickname string    `json:"sellerNickname"`
	StartTime      time.Time `json:"startTime"`
	EndTime        time.Time `json:"endTime"`
}
