package testfactory

import (
	"cmp"
	"context"
	"testing"

	"github.com/google/uuid"

	"github.com/8949market/market/shared/chat"
)

// RoomOpts overrides the defaults of a chat room: the room of a fresh trade between a
// fresh buyer and a fresh seller, open (TRADING), with no messages.
type RoomOpts struct {
	TradeID        uuid.UUID
	ProductID      uuid.UUID
	ProductName    string
	BuyerID        uuid.UUID
	BuyerNickname  string
	SellerID       uuid.UUID
	SellerNickname string
	// Status other than TRADING writes a closed room.
	Status chat.Status
}

// Room writes a chat room row (as trade-created would have left it, without the event)
// and returns the room as stored.
func Room(ctx context.Context, tb testing.TB, db DB, opts *RoomOpts) chat.Room {
	tb.Helper()
	o := RoomOpts{}
	if opts != nil {
		o = *opts
	}
	o.TradeID, o.ProductID = cmp.Or(o.TradeID, uuid.New()), cmp.Or(o.ProductID, uuid.New())
	o.BuyerID, o.SellerID = cmp.Or(o.BuyerID, uuid.New()), cmp.Or(o.SellerID, uuid.New())
	o.ProductName = cmp.Or(o.ProductName, "Lamp "+o.ProductID.String()[:6])
	o.BuyerNickname = cmp.Or(o.BuyerNickname, "buyer-"+o.BuyerID.String()[:6])
	o.SellerNickname = cmp.Or(o.SellerNickname, "seller-"+o.SellerID.String()[:6])
	o.Status = cmp.Or(o.Status, chat.Trading)
	var r chat.Room
	err := db.QueryRow(ctx, `
		INSERT INTO chat.rooms (id, trade_id, product_id, product_name, seller_id, seller_nickname,
		                        buyer_id, buyer_nickname, status, closed_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, CASE WHEN $9 = 'TRADING' THEN NULL ELSE clock_timestamp() END)
		RETURNING id, trade_id, product_id, product_name, seller_id, seller_nickname, buyer_id, buyer_nickname,
		          status, last_message_id, created_at, closed_at`,
		uuid.New(), o.TradeID, o.ProductID, o.ProductName, o.SellerID, o.SellerNickname,
		o.BuyerID, o.BuyerNickname, o.Status).
		Scan(&r.ID, &r.TradeID, &r.ProductID, &r.ProductName, &r.SellerID, &r.SellerNickname, &r.BuyerID,
			&r.BuyerNickname, &r.Status, &r.LastMessageID, &r.CreatedAt, &r.ClosedAt)
	if err != nil {
		tb.Fatalf("testfactory: room: %v", err)
	}
	r.CreatedAt = r.CreatedAt.UTC()
	if r.ClosedAt != nil {
		t := r.ClosedAt.UTC()
		r.ClosedAt = &t
	}
	return r
}
