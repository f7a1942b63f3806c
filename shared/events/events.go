// Package events is the event catalogue (docs/design.md §2): the topics, who produces them,
// and the payload of each. Topic names here are without the environment prefix; a topic
// on the stream is TOPIC_PREFIX + name, and its dead-letter topic that plus ".dlt".
package events

import (
	"time"

	"github.com/google/uuid"
)

// The topics of the catalogue.
const (
	ProductCreated   = "product-created"
	ProductUpdated   = "product-updated"
	ProductCancelled = "product-cancelled"
	ProductFailed    = "product-failed"
	// ReservationApplied is an addition to the original catalogue: a buyer took the
	// reservation (the first applicant, or the next in the queue after a cancellation),
	// so the product knows not to expire while that buyer pays and trades.
	ReservationApplied   = "reservation-applied"
	ReservationCompleted = "reservation-completed"
	ReservationCancelled = "reservation-cancelled"
	ReservationTradeFail = "reservation-tradefail"
	TradeCreated         = "trade-created"
	TradeCompleted       = "trade-completed"
	TradeCancelled       = "trade-cancelled"
	ChatRoomCreated      = "chat-room-created"
	ChatMessageSent      = "chat-message-sent"
	// UploadFinalized is Cloud Storage's, not the outbox's: the uploads bucket notifies it
	// when a client's upload is complete (shared/objectevent), and the local storage
	// stand-in alike.
	UploadFinalized = "upload-finalized"
)

// Topics lists every topic of the catalogue.
func Topics() []string {
	return []string{
		ProductCreated, ProductUpdated, ProductCancelled, ProductFailed,
		ReservationApplied, ReservationCompleted, ReservationCancelled, ReservationTradeFail,
		TradeCreated, TradeCompleted, TradeCancelled,
		ChatRoomCreated, ChatMessageSent,
		UploadFinalized,
	}
}

// StorageTopics are the topics Cloud Storage publishes to. Cloud Storage notifies only
// Pub/Sub, so on GCP they are Pub/Sub topics with push subscriptions whatever the
// backbone; locally the storage stand-in publishes them on the backbone in use.
func StorageTopics() []string { return []string{UploadFinalized} }

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

// ProductUpdatedData announces a change of a product's information, schedule or status
// column (the products-tick's moves included). Reservations update their copy from it.
type ProductUpdatedData struct {
	ProductID uuid.UUID `json:"productId"`
	Name      string    `json:"name"`
	Price     int64     `json:"price"`
	StartTime time.Time `json:"startTime"`
	EndTime   time.Time `json:"endTime"`
	Status    string    `json:"status"`
}

// ProductCancelledData announces that a seller or an administrator cancelled or deleted a
// product before it went to a trade: its reservation closes and its queue is released.
type ProductCancelledData struct {
	ProductID uuid.UUID `json:"productId"`
	Deleted   bool      `json:"deleted"`
	By        uuid.UUID `json:"by"`
}

// ProductFailedData says that the reservation of a product could not be opened.
type ProductFailedData struct {
	ProductID uuid.UUID `json:"productId"`
	Reason    string    `json:"reason"`
}

// ReservationData is the payload of the reservation events (reservation-applied,
// reservation-completed, reservation-cancelled). Version is the reservation's version at
// the change: the events of one reservation travel on several topics, so a consumer keeps
// the highest version it applied and ignores older ones.
type ReservationData struct {
	ReservationID  uuid.UUID  `json:"reservationId"`
	ProductID      uuid.UUID  `json:"productId"`
	Version        int64      `json:"version"`
	Status         string     `json:"status"`
	SellerID       uuid.UUID  `json:"sellerId"`
	SellerNickname string     `json:"sellerNickname"`
	BuyerID        *uuid.UUID `json:"buyerId,omitempty"`
	BuyerNickname  string     `json:"buyerNickname,omitempty"`
	Price          int64      `json:"price"`
	ProductName    string     `json:"productName,omitempty"`
	Reason         string     `json:"reason,omitempty"`
}

// ReservationTradeFailData says that a completed reservation could not become a trade.
type ReservationTradeFailData struct {
	ReservationID uuid.UUID `json:"reservationId"`
	ProductID     uuid.UUID `json:"productId"`
	Reason        string    `json:"reason"`
}

// TradeData is the payload of the trade events (trade-created, trade-completed,
// trade-cancelled).
type TradeData struct {
	TradeID        uuid.UUID `json:"tradeId"`
	ReservationID  uuid.UUID `json:"reservationId"`
	ProductID      uuid.UUID `json:"productId"`
	ProductName    string    `json:"productName,omitempty"`
	SellerID       uuid.UUID `json:"sellerId"`
	SellerNickname string    `json:"sellerNickname,omitempty"`
	BuyerID        uuid.UUID `json:"buyerId"`
	BuyerNickname  string    `json:"buyerNickname,omitempty"`
	Reason         string    `json:"reason,omitempty"`
}

// ChatRoomCreatedData says which chat room a trade's parties talk in.
type ChatRoomCreatedData struct {
	RoomID  uuid.UUID `json:"roomId"`
	TradeID uuid.UUID `json:"tradeId"`
}

// ChatMessageSentData announces a stored chat message (for analytics and moderation; no
// domain consumes it). MessageID counts within the room.
type ChatMessageSentData struct {
	RoomID     uuid.UUID `json:"roomId"`
	TradeID    uuid.UUID `json:"tradeId"`
	MessageID  int64     `json:"messageId"`
	SenderID   uuid.UUID `json:"senderId"`
	SenderType string    `json:"senderType"`
	Message    string    `json:"message"`
	CreatedAt  time.Time `json:"createdAt"`
}
