package auth

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// ledger is the durable record of revocations: users.revoked_tokens and
// users.revoked_versions (migration 00010). Redis holds the same marks for speed but may
// lose them (Memorystore persists nothing); the ledger is what Redis and the mirrors are
// restored from, and what Denied asks while Redis cannot be trusted.
type ledger struct {
	db *pgxpool.Pool
}

// Execer runs one statement: a pgx.Tx, a connection or a pool.
type Execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// userMarkTTL is how long an account's revocation must be kept: as long as a token issued
// just before it could still be accepted, and a minute more.
func userMarkTTL(maxTokenTTL time.Duration) time.Duration { return maxTokenTTL + Leeway + time.Minute }

// RecordUserRevocation records in tx that userID's tokens below minVersion are void, for
// as long as a token issued before now can live (maxTokenTTL). If tx rolls back, so does
// the record; so a change that raises the account's token version calls it in its own
// transaction, and Denylist.RevokeUser tells Redis after the commit. The database's clock
// dates it, as it dates every check of the record.
func RecordUserRevocation(ctx context.Context, tx Execer, userID uuid.UUID, minVersion int64, maxTokenTTL time.Duration) error {
	if maxTokenTTL <= 0 {
		return errors.New("record revocation: token lifetime must be positive")
	}
	// Versions only go up and a mark only lives longer, as in Redis.
	_, err := tx.Exec(ctx, `
		INSERT INTO users.revoked_versions AS r (user_id, min_version, expires_at)
		VALUES ($1, $2, now() + $3 * interval '1 millisecond')
		ON CONFLICT (user_id) DO UPDATE
		   SET min_version = GREATEST(r.min_version, EXCLUDED.min_version),
		       expires_at  = GREATEST(r.expires_at, EXCLUDED.expires_at)`,
		userID, minVersion, userMarkTTL(maxTokenTTL).Milliseconds())
	if err != nil {
		return fmt.Errorf("record revocation of user %s: %w", userID, err)
	}
	return nil
}

// denyToken records that the token jti is revoked until expires.
func (l *ledger) denyToken(ctx context.Context, jti string, expires time.Time) error {
	_, err := l.db.Exec(ctx, `
		INSERT INTO users.revoked_tokens AS r (jti, expires_at) VALUES ($1, $2)
		ON CONFLICT (jti) DO UPDATE SET expires_at = GREATEST(r.expires_at, EXCLUDED.expires_at)`,
		jti, expires)
	if err != nil {
		return fmt.Errorf("record revoked token: %w", err)
	}
	return nil
}

// denied answers Denied from the record, in one round trip. Expired rows still count:
// the tokens they void have expired too, and the verifier refuses those anyway.
func (l *ledger) denied(ctx context.Context, jti string, userID uuid.UUID, ver int64) (bool, error) {
	var token bool
	var minVersion int64
	err := l.db.QueryRow(ctx, `
		SELECT EXISTS (SELECT 1 FROM users.revoked_tokens WHERE jti = $1),
		       coalesce((SELECT min_version FROM users.revoked_versions WHERE user_id = $2), -1)`,
		jti, userID).Scan(&token, &minVersion)
	if err != nil {
		return false, fmt.Errorf("check revocation record: %w", err)
	}
	return token || ver < minVersion, nil
}

// live calls each with every unexpired revocation of the record, as the event that
// would announce it: its lifetime counted by the database's clock.
func (l *ledger) live(ctx context.Context, each func(event) error) error {
	rows, err := l.db.Query(ctx, `
		SELECT 'jti', jti, 0::bigint, ceil(extract(epoch FROM expires_at - now()) * 1000)::bigint
		  FROM users.revoked_tokens WHERE expires_at > now()
		UNION ALL
		SELECT 'user', user_id::text, min_version, ceil(extract(epoch FROM expires_at - now()) * 1000)::bigint
		  FROM users.revoked_versions WHERE expires_at > now()`)
	if err != nil {
		return fmt.Errorf("read revocation record: %w", err)
	}
	var e event
	var ms int64
	_, err = pgx.ForEachRow(rows, []any{&e.kind, &e.id, &e.version, &ms}, func() error {
		e.ttl = time.Duration(ms) * time.Millisecond
		return each(e)
	})
	if err != nil {
		return fmt.Errorf("read revocation record: %w", err)
	}
	return nil
}

// ledgerPruneBatch bounds the expired rows one prune deletes from each table: pruning
// runs beside every revocation, so the tables keep to about the live marks.
const ledgerPruneBatch = 200

// prune deletes up to limit expired rows of each table and returns how many it deleted.
// Rows another prune holds are skipped, so concurrent prunes never wait on each other.
func (l *ledger) prune(ctx context.Context, limit int) (int64, error) {
	var n int64
	err := l.db.QueryRow(ctx, `
		WITH tokens AS (
		  DELETE FROM users.revoked_tokens WHERE jti IN (
		    SELECT jti FROM users.revoked_tokens WHERE expires_at < now()
		     ORDER BY expires_at LIMIT $1 FOR UPDATE SKIP LOCKED)
		  RETURNING 1
		), versions AS (
		  DELETE FROM users.revoked_versions WHERE user_id IN (
		    SELECT user_id FROM users.revoked_versions WHERE expires_at < now()
		     ORDER BY expires_at LIMIT $1 FOR UPDATE SKIP LOCKED)
		  RETURNING 1
		)
		SELECT (SELECT count(*) FROM tokens) + (SELECT count(*) FROM versions)`, limit).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("prune revocation record: %w", err)
	}
	return n, nil
}
