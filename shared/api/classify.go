package api

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/8949market/market/shared/fault"
)

// Classify is the fault err answers as: its own fault if it carries one; otherwise what
// the error says about the platform. A dependency that cannot be reached (PostgreSQL
// restarting or down, a connection dropped mid-query, a network failure to Redis) is 503
// C014, as the denylist's Redis outage already was, so callers retry rather than report a
// bug; a deadline is 503 C007; text PostgreSQL refused as not UTF-8 is 400 C016 (a
// backstop: inputs are checked before they get there); anything else is 500 C006. ctx is
// the request's: a cancellation is the client leaving only while it is done.
func Classify(ctx context.Context, err error) *fault.Error {
	if f, ok := fault.As(err); ok {
		return f
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return fault.ErrTimeout.Wrap(err)
	case errors.Is(err, context.Canceled) && ctx.Err() != nil:
		return fault.ErrUnavailable.Wrap(err)
	case Unreachable(err):
		return fault.ErrUnavailable.Wrap(err)
	case refusedText(err):
		return fault.ErrText.Wrap(err)
	}
	return fault.ErrInternal.Wrap(err)
}

// Unreachable reports whether err says a dependency could not be reached or dropped the
// connection, rather than refused the request: pgx could not connect (refused, timed out,
// authentication failed: the pool's acquire failing is one of these), the server is
// shutting down, starting or in recovery (57P01, 57P02, 57P03), the connection failed
// (class 08) or the server has no connection slot left (53300), the connection was closed
// under the query (pgx: "conn closed", or an unexpected EOF from the socket), or any
// network operation failed (PostgreSQL or Redis).
func Unreachable(err error) bool {
	var (
		connect *pgconn.ConnectError
		pgErr   *pgconn.PgError
		netErr  *net.OpError
	)
	switch {
	case errors.As(err, &connect):
		return true
	case errors.As(err, &pgErr):
		return strings.HasPrefix(pgErr.Code, "08") ||
			pgErr.Code == "57P01" || pgErr.Code == "57P02" || pgErr.Code == "57P03" ||
			pgErr.Code == "53300"
	case errors.Is(err, pgconn.ErrConnClosed),
		errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, io.EOF),
		errors.As(err, &netErr):
		return true
	}
	return false
}

// refusedText reports whether PostgreSQL refused a value as not valid text: a NUL or
// invalid UTF-8 (22021 character_not_in_repertoire) or a character the database encoding
// lacks (22P05 untranslatable_character).
func refusedText(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && (pgErr.Code == "22021" || pgErr.Code == "22P05")
}
