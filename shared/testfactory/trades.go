package testfactory

import (
	"cmp"
	"context"
	"testing"

	"github.com/google/uuid"

	"github.com/8949market/market/shared/trades"
)

// TradeOpts overrides the defaults of a trade: a fresh reservation and product between a
// fresh buyer and a fresh seller, priced 7000, trading on both sides, no chat room.
type TradeOpts struct {
	ReservationID  uuid.UUID
	ProductID      uuid.UUID
	ProductName    string
	Price          int64
	BuyerID        uuid.UUID
	BuyerNickname  string
	SellerID       uuid.UUID
	SellerNickname string
	// Status is the trade's; BuyerStatus and SellerStatus default to it.
	Status       trades.Status
	BuyerStatus  trades.Status
	SellerStatus trades.Status
	ChatRoomID   *uuid.UUID
}

// Trade writes a trade row and its creation's history row (as trade-created would have
// left them, without the event) and returns the trade as stored.
func Trade(ctx context.Context, tb testing.TB, db DB, opts *TradeOpts) trades.Trade {
	tb.Helper()
	o := TradeOpts{}
	if opts != nil {
		o = *opts
	}
	id := uuid.New()
	o.ReservationID, o.ProductID = cmp.Or(o.ReservationID, uuid.New()), cmp.Or(o.ProductID, uuid.New())
	o.BuyerID, o.SellerID = cmp.Or(o.BuyerID, uuid.New()), cmp.Or(o.SellerID, uuid.New())
	o.ProductName, o.Price = cmp.Or(o.ProductName, "Turntable"), cmp.Or(o.Price, 7000)
	o.BuyerNickname = cmp.Or(o.BuyerNickname, "buyer-"+o.BuyerID.String()[:6])
	o.SellerNickname = cmp.Or(o.SellerNickname, "seller-"+o.SellerID.String()[:6])
	o.Status = cmp.Or(o.Status, trades.Trading)
	o.BuyerStatus, o.SellerStatus = cmp.Or(o.BuyerStatus, o.Status), cmp.Or(o.SellerStatus, o.Status)
	var t trades.Trade
	err := db.QueryRow(ctx, `
		WITH t AS (
			INSERT INTO trades.trades (id, reservation_id, product_id, product_name, product_price, buyer_id, buyer_nickname,
			                           seller_id, seller_nickname, status, buyer_status, seller_status, chat_room_id)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
			RETURNING id, reservation_id, status, buyer_id, buyer_nickname, buyer_status, seller_id, seller_nickname,
			          seller_status, product_id, product_name, product_price, chat_room_id, version, created_at, modified_at
		), h AS (
			INSERT INTO trades.history (id, trade_id, new_status, actor_side) SELECT $14, id, 'TRADING', 'SYSTEM' FROM t
		)
		SELECT * FROM t`,
		id, o.ReservationID, o.ProductID, o.ProductName, o.Price, o.BuyerID, o.BuyerNickname,
		o.SellerID, o.SellerNickname, o.Status, o.BuyerStatus, o.SellerStatus, o.ChatRoomID, uuid.New()).
		Scan(&t.ID, &t.ReservationID, &t.Status, &t.BuyerID, &t.BuyerNickname, &t.BuyerStatus, &t.SellerID,
			&t.SellerNickname, &t.SellerStatus, &t.ProductID, &t.ProductName, &t.ProductPrice, &t.ChatRoomID,
			&t.Version, &t.CreatedAt, &t.ModifiedAt)
	if err != nil {
		tb.Fatalf("testfactory: trade: %v", err)
	}
	t.CreatedAt, t.ModifiedAt = t.CreatedAt.UTC(), t.ModifiedAt.UTC()
	return t
}
