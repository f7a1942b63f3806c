package main

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/8949market/market/shared/testenv"
)

func TestMeasure(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testenv.DB(t)

	lag, err := measure(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	if lag != (Lag{}) {
		t.Fatalf("empty outbox: %+v, want zero", lag)
	}

	insert := func(status string, age time.Duration) {
		t.Helper()
		if _, err := db.Exec(ctx, `
			INSERT INTO messaging.outbox (id, topic, source, aggregate_id, payload, status, created_at)
			VALUES ($1, 'product-created', 'products', $2, '{}', $3, clock_timestamp() - make_interval(secs => $4))`,
			uuid.New(), uuid.NewString(), status, age.Seconds()); err != nil {
			t.Fatal(err)
		}
	}
	insert("PENDING", 90*time.Second)
	insert("PENDING", 5*time.Second)
	insert("SENT", time.Hour)     // published long ago: not lag
	insert("FAILED", 2*time.Hour) // parked: counted by the dead-letter alerts

	lag, err = measure(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	if lag.Pending != 2 {
		t.Errorf("pending %d, want 2", lag.Pending)
	}
	if lag.Oldest < 90*time.Second || lag.Oldest > 120*time.Second {
		t.Errorf("oldest pending %v, want the 90 s row's age", lag.Oldest)
	}
}
