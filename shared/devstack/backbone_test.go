package devstack_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/bus"
	"github.com/8949market/market/shared/devstack/stacktest"
	"github.com/8949market/market/shared/products"
	"github.com/8949market/market/shared/testenv"
)

// make dev against a Kafka that requires SASL (KAFKA_BROKERS with KAFKA_SASL): the relay
// and the bridge authenticate, so an event goes from the outbox to its consumer.
func TestKafkaBrokersWithSASL(t *testing.T) {
	t.Parallel()
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.DefaultNumPartitions(bus.KafkaPartitions),
		kfake.EnableSASL(), kfake.Superuser("PLAIN", "dev", "dev-secret"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cluster.Close)
	cfg, signer := testenv.Config(t)
	cfg.Backbone = "kafka"
	cfg.KafkaBrokers = cluster.ListenAddrs()
	cfg.KafkaSASL, cfg.KafkaSASLUsername, cfg.KafkaSASLPassword = "plain", "dev", "dev-secret"
	cfg.TopicPrefix = "sasl-" + uuid.NewString()[:8] + "-"
	st := stacktest.StartWith(t, cfg, signer)

	token, _ := st.Token(t, auth.RoleUser)
	start := time.Now().Add(time.Hour).UTC()
	res := st.Do(t, "POST", "/api/v1/products", map[string]any{
		"name": "Road bike", "price": 350000,
		"startTime": start.Format(time.RFC3339), "endTime": start.Add(time.Hour).Format(time.RFC3339),
	}, token)
	var p products.View
	res.Data(t, &p)

	// Settle needs the relay to publish and the bridge's group to commit.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := st.Settle(ctx); err != nil {
		t.Fatalf("settle: %v", err)
	}
	var reservations int
	if err := st.Kit.DB.QueryRow(ctx, `SELECT count(*) FROM reservations.reservations WHERE product_id = $1`, p.ProductID).
		Scan(&reservations); err != nil {
		t.Fatal(err)
	}
	if reservations != 1 {
		t.Errorf("%d reservations for the product, want 1 (its event delivered through the SASL cluster)", reservations)
	}
}
