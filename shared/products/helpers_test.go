package products_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/events/eventtest"
	"github.com/8949market/market/shared/fault"
	"github.com/8949market/market/shared/postgres"
	"github.com/8949market/market/shared/products"
	"github.com/8949market/market/shared/testenv"
)

// fixture is a store on a fresh migrated database of the test's own.
type fixture struct {
	db    *pgxpool.Pool
	store *products.Store
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	db := testenv.DB(t)
	return &fixture{db: db, store: products.NewStore(db)}
}

// baseProduct is a PENDING_RESERVATION product of a fresh seller whose one-hour window
// opens an hour after now.
func baseProduct(now time.Time, status products.Status) products.Product {
	seller := uuid.New()
	start := now.Add(time.Hour)
	return products.Product{
		ID: uuid.New(), SellerID: seller, SellerNickname: "lamp-seller",
		Name: "Desk lamp", Description: "Warm light", Price: 12000, Status: status,
		StartTime: start, EndTime: start.Add(time.Hour),
		CreatedAt: now.Add(-time.Hour), ModifiedAt: now.Add(-time.Hour), ModifiedBy: seller,
	}
}

// insert writes p as a row directly (no product-created event), so every state and
// window, also ones only the consumers or the clock produce, can be seeded.
func (f *fixture) insert(t *testing.T, p products.Product) {
	t.Helper()
	_, err := f.db.Exec(context.Background(), `
		INSERT INTO products.products
		  (id, seller_id, seller_nickname, name, description, price, status, start_time, end_time,
		   created_at, created_by, modified_at, modified_by, deleted_at, deleted_by,
		   buyer_id, reservation_version, failure_reason, failed_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $2, $11, $12, $13, $14, $15, $16, nullif($17, ''), $18)`,
		p.ID, p.SellerID, p.SellerNickname, p.Name, p.Description, p.Price, string(p.Status), p.StartTime, p.EndTime,
		p.CreatedAt, p.ModifiedAt, p.ModifiedBy, p.DeletedAt, p.DeletedBy,
		p.BuyerID, p.ReservationVersion, p.FailureReason, p.FailedAt)
	if err != nil {
		t.Fatalf("insert product: %v", err)
	}
}

const rawColumns = `id, seller_id, seller_nickname, name, description, price, status,
	start_time, end_time, created_at, modified_at, modified_by, deleted_at, deleted_by,
	buyer_id, reservation_version, coalesce(failure_reason, ''), failed_at`

func scanRaw(row pgx.Row) (products.Product, error) {
	var p products.Product
	err := row.Scan(&p.ID, &p.SellerID, &p.SellerNickname, &p.Name, &p.Description, &p.Price, &p.Status,
		&p.StartTime, &p.EndTime, &p.CreatedAt, &p.ModifiedAt, &p.ModifiedBy, &p.DeletedAt, &p.DeletedBy,
		&p.BuyerID, &p.ReservationVersion, &p.FailureReason, &p.FailedAt)
	return p, err
}

// read returns the stored row, deleted or not.
func (f *fixture) read(t *testing.T, id uuid.UUID) products.Product {
	t.Helper()
	p, err := scanRaw(f.db.QueryRow(context.Background(), `SELECT `+rawColumns+` FROM products.products WHERE id = $1`, id))
	if err != nil {
		t.Fatalf("read product %s: %v", id, err)
	}
	return p
}

// outboxRow is one messaging.outbox row, its payload decoded.
type outboxRow struct {
	Topic       string
	Source      string
	AggregateID string
	Payload     map[string]any
}

// outbox returns the outbox rows about the product id, in write order.
func (f *fixture) outbox(t *testing.T, id uuid.UUID) []outboxRow {
	t.Helper()
	rows := eventtest.Outbox(t, f.db, id.String(), "")
	out := make([]outboxRow, len(rows))
	for i, r := range rows {
		out[i] = outboxRow{Topic: r.Topic, Source: r.Source, AggregateID: r.AggregateID}
		r.Decode(t, &out[i].Payload)
	}
	return out
}

func (f *fixture) count(t *testing.T, query string, args ...any) int {
	t.Helper()
	var n int
	if err := f.db.QueryRow(context.Background(), query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// describe renders every stored field of p, times in UTC, so two reads compare as text.
func describe(p products.Product) string {
	ts := func(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }
	opt := func(t *time.Time) string {
		if t == nil {
			return "-"
		}
		return ts(*t)
	}
	id := func(u *uuid.UUID) string {
		if u == nil {
			return "-"
		}
		return u.String()
	}
	return fmt.Sprintf("id=%s seller=%s/%s name=%q desc=%q price=%d status=%s window=%s..%s created=%s modified=%s by %s deleted=%s by %s buyer=%s version=%d failure=%q at %s",
		p.ID, p.SellerID, p.SellerNickname, p.Name, p.Description, p.Price, p.Status, ts(p.StartTime), ts(p.EndTime),
		ts(p.CreatedAt), ts(p.ModifiedAt), p.ModifiedBy, opt(p.DeletedAt), id(p.DeletedBy), id(p.BuyerID),
		p.ReservationVersion, p.FailureReason, opt(p.FailedAt))
}

// code is the fault code of err ("" for nil, "?" for an error that is not a fault).
func code(err error) string {
	if err == nil {
		return ""
	}
	if f, ok := fault.As(err); ok {
		return f.Code
	}
	return "?"
}

func field(err error) string {
	if f, ok := fault.As(err); ok {
		return f.Field
	}
	return ""
}

func payloadTime(t *testing.T, r outboxRow, key string) time.Time {
	t.Helper()
	s, _ := r.Payload[key].(string)
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatalf("payload %s = %v: %v", key, r.Payload[key], err)
	}
	return v
}

// payloadNumber reads a JSON number of a payload as an int64.
func payloadNumber(r outboxRow, key string) int64 {
	n, _ := r.Payload[key].(float64)
	return int64(n)
}

func identity(id uuid.UUID, role auth.Role, nickname string) auth.Identity {
	return auth.Identity{UserID: id, Role: role, Nickname: nickname, Username: nickname}
}

// inTx runs fn in a transaction and commits it unless fn fails.
func (f *fixture) inTx(t *testing.T, fn func(tx pgx.Tx) error) error {
	t.Helper()
	return pgx.BeginFunc(context.Background(), f.db, fn)
}

// follow applies a consumer-driven change through UpdateTx, as Follow does: nothing is
// written unless change reports a change.
func (f *fixture) follow(t *testing.T, id uuid.UUID, change func(p *products.Product) bool) (bool, error) {
	t.Helper()
	var changed bool
	err := f.inTx(t, func(tx pgx.Tx) error {
		_, err := products.UpdateTx(context.Background(), tx, id, func(p *products.Product) (bool, error) {
			changed = change(p)
			return changed, nil
		})
		return err
	})
	return changed, err
}

func ptr[T any](v T) *T { return &v }

// refNow is a reference instant at the database's precision.
func refNow() time.Time { return postgres.Time(time.Now()) }

var errChangeRefused = errors.New("refused by the test")
