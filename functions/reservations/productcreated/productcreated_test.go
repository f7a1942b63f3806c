package productcreated_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/bus/pubsubtest"
	"github.com/8949market/market/shared/config"
	"github.com/8949market/market/shared/devstack/stacktest"
	"github.com/8949market/market/shared/products"
	"github.com/8949market/market/shared/testenv"
)

// The vertical slice on both backbones: POST /products commits the product and its
// product-created event; the relay publishes it; the consumer function opens the
// reservation. Delivered a second time, it changes nothing.
func TestProductCreatedOpensReservationOnEachBackbone(t *testing.T) {
	t.Parallel()
	backbones := []struct {
		name  string
		setup func(t *testing.T, cfg *config.Config)
	}{
		{"kafka", func(t *testing.T, cfg *config.Config) { cfg.Backbone = "kafka" }},
		{"pubsub", func(t *testing.T, cfg *config.Config) {
			cfg.Backbone = "pubsub"
			host, kind := pubsubtest.Emulator(t)
			t.Logf("pubsub backbone: %s at %s", kind, host)
			cfg.PubSubEmulatorHost = host
		}},
	}
	for _, bb := range backbones {
		t.Run(bb.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			cfg, signer := testenv.Config(t)
			cfg.TopicPrefix = "test-" + uuid.NewString()[:8] + "-"
			bb.setup(t, &cfg)
			st := stacktest.StartWith(t, cfg, signer)
			if st.Backbone() != bb.name {
				t.Fatalf("backbone = %s", st.Backbone())
			}
			token, seller := st.Token(t, auth.RoleUser)
			start := time.Now().Add(time.Hour).UTC()
			res := st.Do(t, "POST", "/api/v1/products", map[string]any{
				"name": "Road bike", "price": 350000,
				"startTime": start.Format(time.RFC3339), "endTime": start.Add(time.Hour).Format(time.RFC3339),
			}, token)
			var p products.View
			res.Data(t, &p)

			// The reservation appears asynchronously: poll with a deadline.
			var r struct {
				sellerID       uuid.UUID
				sellerNickname string
				price          int64
				status         string
				start, end     time.Time
			}
			deadline := time.Now().Add(20 * time.Second)
			for {
				err := st.Kit.DB.QueryRow(ctx, `
					SELECT seller_id, seller_nickname, product_price, status, start_time, end_time
					  FROM reservations.reservations WHERE product_id = $1`, p.ProductID).
					Scan(&r.sellerID, &r.sellerNickname, &r.price, &r.status, &r.start, &r.end)
				if err == nil {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("no reservation for product %s after 20s: %v", p.ProductID, err)
				}
				time.Sleep(20 * time.Millisecond)
			}
			if r.sellerID != seller.UserID || r.sellerNickname != seller.Nickname || r.price != 350000 ||
				r.status != "AVAILABLE" || !r.start.Equal(p.StartTime) || !r.end.Equal(p.EndTime) {
				t.Fatalf("reservation = %+v", r)
			}

			// Deliver the same event again through the backbone: the relay republishes the
			// row with the same event id.
			var eventID uuid.UUID
			if err := st.Kit.DB.QueryRow(ctx, `
				UPDATE messaging.outbox SET status = 'PENDING', sent_at = NULL
				 WHERE aggregate_id = $1 AND topic = 'product-created' RETURNING id`, p.ProductID.String()).Scan(&eventID); err != nil {
				t.Fatal(err)
			}
			settle, cancel := context.WithTimeout(ctx, 20*time.Second)
			defer cancel()
			if err := st.Settle(settle); err != nil {
				t.Fatalf("settle: %v", err)
			}
			var status string
			var reservations, inboxRows int
			if err := st.Kit.DB.QueryRow(ctx, `
				SELECT (SELECT status FROM messaging.outbox WHERE id = $1),
				       (SELECT count(*) FROM reservations.reservations WHERE product_id = $2),
				       (SELECT count(*) FROM messaging.inbox WHERE event_id = $1)`, eventID, p.ProductID).
				Scan(&status, &reservations, &inboxRows); err != nil {
				t.Fatal(err)
			}
			if status != "SENT" || reservations != 1 || inboxRows != 1 {
				t.Fatalf("after redelivery: outbox %s, %d reservations, %d inbox rows; want SENT, 1, 1", status, reservations, inboxRows)
			}
		})
	}
}
