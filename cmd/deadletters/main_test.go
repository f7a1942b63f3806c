package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/8949market/market/shared/bus"
	"github.com/8949market/market/shared/outbox"
	"github.com/8949market/market/shared/testenv"
)

// The command lists a FAILED row with its error and replays it, against the database and
// Kafka the environment names. Not parallel: it sets the environment.
func TestListThenReplay(t *testing.T) {
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.AllowAutoTopicCreation(), kfake.DefaultNumPartitions(bus.KafkaPartitions))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cluster.Close)
	dsn := testenv.DatabaseURL(t)
	db := testenv.Connect(t, dsn)
	t.Setenv("DATABASE_URL", dsn)
	t.Setenv("BACKBONE", "kafka")
	t.Setenv("KAFKA_BROKERS", strings.Join(cluster.ListenAddrs(), ","))
	t.Setenv("TOPIC_PREFIX", "cmd-"+uuid.NewString()[:8]+"-")

	ctx := context.Background()
	id := uuid.New()
	if err := pgx.BeginFunc(ctx, db, func(tx pgx.Tx) error {
		if err := outbox.Write(ctx, tx, outbox.Event{ID: id, Topic: "product-created", Source: "products", AggregateID: "p1", Data: 1}); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `UPDATE messaging.outbox SET status = 'FAILED', attempts = 8, last_error = 'broker down' WHERE id = $1`, id)
		return err
	}); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name string
		args []string
		want []string
		err  string
	}{
		{name: "list", args: nil, want: []string{"failed", id.String(), "broker down", "reservations-product-created"}},
		{name: "list as JSON, one topic", args: []string{"list", "-json", "-topic", "product-created"}, want: []string{`"eventId":"` + id.String() + `"`}},
		{name: "another topic", args: []string{"list", "-topic", "trade-created"}, want: []string{"nothing"}},
		{name: "replay", args: []string{"replay"}, want: []string{"replayed: 1 FAILED and 0 undelivered", "0 dead-lettered"}},
		{name: "nothing left", args: []string{"list"}, want: []string{"nothing"}},
		{name: "unknown topic", args: []string{"list", "-topic", "dev-product-created"}, err: "no topic"},
		{name: "unknown action", args: []string{"purge"}, err: "unknown action"},
	} {
		var out bytes.Buffer
		err := run(ctx, tc.args, &out)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: err = %v, want %q", tc.name, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v\n%s", tc.name, err, out.String())
		}
		for _, w := range tc.want {
			if !strings.Contains(out.String(), w) {
				t.Errorf("%s: output lacks %q:\n%s", tc.name, w, out.String())
			}
		}
	}
	var status string
	if err := db.QueryRow(ctx, `SELECT status FROM messaging.outbox WHERE id = $1`, id).Scan(&status); err != nil || status != "PENDING" {
		t.Errorf("row is %s (%v), want PENDING after the replay", status, err)
	}
}
