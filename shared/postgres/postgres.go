// Package postgres opens the platform's PostgreSQL pool.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/exaring/otelpgx"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"go.opentelemetry.io/otel/metric/noop"
)

// Connect opens a pool on dsn with at most maxConns connections. It does not wait for the
// database: the first query does, so a cold start stays fast.
func Connect(ctx context.Context, dsn string, maxConns int32) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("parse database url: %w", err)
	}
	if maxConns > 0 {
		cfg.MaxConns = maxConns
	}
	cfg.MaxConnIdleTime = 5 * time.Minute
	// Every session speaks UTC so timestamptz values render the same everywhere.
	cfg.ConnConfig.RuntimeParams["timezone"] = "UTC"
	// A span per statement, named by its verb, the text as an attribute, never the
	// arguments. Not a span per pool acquire nor a histogram per statement: the hot paths
	// paid for them on every statement (docs/benchmarks.md, "Telemetry on and off"), and
	// the pool's own metrics (RecordStats: acquire waits and durations) show the waits.
	cfg.ConnConfig.Tracer = otelpgx.NewTracer(
		otelpgx.WithDisableAcquireTracer(), otelpgx.WithMeterProvider(noop.NewMeterProvider()))
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open database pool: %w", err)
	}
	if err := otelpgx.RecordStats(pool); err != nil {
		pool.Close()
		return nil, fmt.Errorf("database pool metrics: %w", err)
	}
	return pool, nil
}

// EnsureDatabase creates the database named in dsn if it does not exist, connecting to
// the server's "postgres" database to do so.
func EnsureDatabase(ctx context.Context, dsn string) error {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return fmt.Errorf("parse database url: %w", err)
	}
	name := cfg.Database
	cfg.Database = "postgres"
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return fmt.Errorf("connect to %s:%d: %w", cfg.Host, cfg.Port, err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil {
		return fmt.Errorf("look up database %s: %w", name, err)
	}
	if exists {
		return nil
	}
	_, err = conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "42P04" { // created meanwhile by someone else
		return nil
	}
	if err != nil {
		return fmt.Errorf("create database %s: %w", name, err)
	}
	return nil
}

// ContainsPattern is a LIKE/ILIKE pattern matching s anywhere, with LIKE's wildcards in s
// taken literally.
func ContainsPattern(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(s) + "%"
}

// Time is t as a timestamptz column keeps it: UTC, to the microsecond. Domain code stamps
// times with it so that what an answer shows is what a later read returns.
func Time(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// Params numbers the parameters of a query built from optional parts (list filters,
// keyset cursors): Add appends a value and returns its placeholder.
//
//	var p postgres.Params
//	where = append(where, "status = "+p.Add(status))
//	rows, err := db.Query(ctx, sql, p.Values()...)
type Params struct {
	values []any
}

// Add appends v and returns its placeholder ("$1", "$2", …).
func (p *Params) Add(v any) string {
	p.values = append(p.values, v)
	return "$" + strconv.Itoa(len(p.values))
}

// Values returns the values in placeholder order.
func (p *Params) Values() []any { return p.values }
