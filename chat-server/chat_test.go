package chatserver_test

import (
	"testing"

	"github.com/8949market/market/shared/chat/chattest"
	"github.com/8949market/market/shared/devstack/stacktest"
)

// The buyer and the seller talk both ways; each sees both messages, in order, with the
// sender's side taken from the token.
func TestMembersTalkBothWays(t *testing.T) {
	t.Parallel()
	st := stacktest.Start(t)
	room := chattest.Open(t, st)
	buyer := chattest.Dial(t, st.ChatURL, room.Buyer.Token)
	seller := chattest.Dial(t, st.ChatURL, room.Seller.Token)
	buyer.Join(room.ID, nil)
	seller.Join(room.ID, nil)

	ack := buyer.Send(room.ID, "b1", "Is it still available?")
	if ack.Message == nil || ack.Message.ID != 1 || ack.Message.SenderType != "BUYER" {
		t.Fatalf("ack %+v", ack)
	}
	ack = seller.Send(room.ID, "s1", "Yes, come by at six.")
	if ack.Message.ID != 2 || ack.Message.SenderType != "SELLER" || ack.Message.SenderID != room.Seller.UserID {
		t.Fatalf("ack %+v", ack.Message)
	}
	for _, c := range []*chattest.Client{buyer, seller} {
		got := c.Messages(2)
		if got[0].Message.Content != "Is it still available?" || got[1].Message.Content != "Yes, come by at six." {
			t.Fatalf("messages %+v %+v", got[0].Message, got[1].Message)
		}
	}
}
