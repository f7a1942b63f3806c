package migrations_test

import (
	"context"
	"slices"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/8949market/market/migrations"
	"github.com/8949market/market/shared/postgres"
	"github.com/8949market/market/shared/testenv"
)

var domainSchemas = []string{"chat", "messaging", "products", "reservations", "trades", "users"}

func TestMigrationsApplyOnEmptyDatabaseAndAreIdempotent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, err := postgres.Connect(ctx, testenv.EmptyDatabaseURL(t), 4)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)

	n, err := migrations.Up(ctx, pool)
	if err != nil {
		t.Fatalf("first Up: %v", err)
	}
	if n == 0 {
		t.Fatal("first Up applied nothing on an empty database")
	}
	cur, latest, err := migrations.Version(ctx, pool)
	if err != nil || cur != latest {
		t.Fatalf("Version = %d of %d (%v), want at latest", cur, latest, err)
	}
	if got := schemas(t, pool); !slices.Equal(got, domainSchemas) {
		t.Fatalf("schemas = %v, want %v", got, domainSchemas)
	}

	// Again: nothing to do, nothing changed.
	if n, err := migrations.Up(ctx, pool); err != nil || n != 0 {
		t.Fatalf("second Up = %d, %v; want 0, nil", n, err)
	}

	// Down to nothing and up again: every migration has a working down.
	if err := migrations.Reset(ctx, pool); err != nil {
		t.Fatalf("Reset: %v", err)
	}
	if got := schemas(t, pool); len(got) != 0 {
		t.Fatalf("schemas after Reset = %v, want none", got)
	}
	if _, err := migrations.Up(ctx, pool); err != nil {
		t.Fatalf("Up after Reset: %v", err)
	}
}

// Several processes may migrate at once (Cloud Run job retries, parallel dev starts).
func TestConcurrentUp(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dsn := testenv.EmptyDatabaseURL(t)
	start := make(chan struct{})
	errs := make(chan error, 4)
	for range 4 {
		go func() {
			pool, err := postgres.Connect(ctx, dsn, 2)
			if err != nil {
				errs <- err
				return
			}
			defer pool.Close()
			<-start
			_, err = migrations.Up(ctx, pool)
			errs <- err
		}()
	}
	close(start)
	for range 4 {
		if err := <-errs; err != nil {
			t.Errorf("concurrent Up: %v", err)
		}
	}
}

func schemas(t *testing.T, db interface {
	Query(context.Context, string, ...any) (pgx.Rows, error)
}) []string {
	t.Helper()
	rows, err := db.Query(context.Background(), `
		SELECT nspname FROM pg_namespace
		 WHERE nspname = ANY($1) ORDER BY nspname`, domainSchemas)
	if err != nil {
		t.Fatal(err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return names
}
