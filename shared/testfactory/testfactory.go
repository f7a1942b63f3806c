// Package testfactory is the one factory of test rows: users, products, reservations,
// trades and rooms, written straight to PostgreSQL with defaults and the overrides a test
// names, so a rule test needs a database (testenv.DB) and no running platform.
//
//	db := testenv.DB(t)
//	seller := testfactory.User(ctx, t, db, nil)
//	p := testfactory.Product(ctx, t, db, &testfactory.ProductOpts{SellerID: seller.ID})
//
// Each builder takes (ctx, tb, db, *Opts), calls tb.Helper() first, treats nil opts as
// all defaults, fails the test on any error and returns the domain's own type. One file
// per domain; the domains' own test kits do not build rows of another domain.
package testfactory

import (
	"context"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// DB is a pool (testenv.DB) or a transaction.
type DB interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}
