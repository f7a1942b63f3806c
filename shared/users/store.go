package users

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/8949market/market/shared/auth"
)

// Store keeps users in the users schema. Deleted users are invisible to every read.
type Store struct {
	db *pgxpool.Pool
	// accessTTL is how long an access token lives: how long a change that voids the
	// user's tokens is kept in the durable revocation record.
	accessTTL time.Duration
}

// NewStore returns a store on db for access tokens that live accessTTL.
func NewStore(db *pgxpool.Pool, accessTTL time.Duration) *Store {
	return &Store{db: db, accessTTL: accessTTL}
}

const userColumns = `id, username, password_hash, role, name, nickname, token_version,
	created_at, coalesce(created_by, id), modified_at, coalesce(modified_by, id)`

func scanUser(row pgx.Row) (User, error) {
	var u User
	err := row.Scan(&u.ID, &u.Username, &u.PasswordHash, &u.Role, &u.Name, &u.Nickname, &u.TokenVersion,
		&u.CreatedAt, &u.CreatedBy, &u.ModifiedAt, &u.ModifiedBy)
	return u, err
}

// Create inserts u with its chat time ranges. A live account with the same username, in
// any case, is ErrDuplicate and nothing is written.
func (s *Store) Create(ctx context.Context, u User) error {
	err := pgx.BeginFunc(ctx, s.db, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `
			INSERT INTO users.users
			  (id, username, password_hash, role, name, nickname, token_version,
			   created_at, created_by, modified_at, modified_by)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $8, $9)`,
			u.ID, u.Username, u.PasswordHash, u.Role, u.Name, u.Nickname, u.TokenVersion, u.CreatedAt, u.CreatedBy)
		if err != nil {
			return err
		}
		return writeRanges(ctx, tx, u.ID, u.ChatTimeRanges)
	})
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" && pgErr.ConstraintName == "users_username_key" {
		return ErrDuplicate.OnField("username")
	}
	if err != nil {
		return fmt.Errorf("create user %s: %w", u.Username, err)
	}
	return nil
}

// Get returns the live user with id, with its chat time ranges.
func (s *Store) Get(ctx context.Context, id uuid.UUID) (User, error) {
	u, err := scanUser(s.db.QueryRow(ctx, `SELECT `+userColumns+` FROM users.users WHERE id = $1 AND deleted_at IS NULL`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return User{}, ErrNotFound
	}
	if err != nil {
		return User{}, fmt.Errorf("get user %s: %w", id, err)
	}
	if u.ChatTimeRanges, err = readRanges(ctx, s.db, id, nil); err != nil {
		return User{}, err
	}
	return u, nil
}

// ByUsername returns the live user whose username is username in any case, without chat
// ranges (login needs none).
func (s *Store) ByUsername(ctx context.Context, username string) (User, error) {
	u, err := scanUser(s.db.QueryRow(ctx, `
		SELECT `+userColumns+` FROM users.users WHERE lower(username) = lower($1) AND deleted_at IS NULL`, username))
	if errors.Is(err, pgx.ErrNoRows) {
		return User{}, ErrNotFound
	}
	if err != nil {
		return User{}, fmt.Errorf("get user by username: %w", err)
	}
	return u, nil
}

// Update runs change on the live user id under a row lock and writes the result back in
// the same transaction; if change fails, nothing is written. A change that leaves no live
// MASTER is refused with ErrLastMaster. A change that raises the token version (password,
// role, deletion) records the revocation in the same transaction
// (auth.RecordUserRevocation), so it survives whatever happens to Redis; the caller then
// tells Redis (RevokeTokens).
func (s *Store) Update(ctx context.Context, id uuid.UUID, change func(u *User) error) (User, error) {
	var out User
	err := pgx.BeginFunc(ctx, s.db, func(tx pgx.Tx) error {
		u, err := scanUser(tx.QueryRow(ctx, `
			SELECT `+userColumns+` FROM users.users WHERE id = $1 AND deleted_at IS NULL FOR UPDATE`, id))
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("lock user: %w", err)
		}
		if u.ChatTimeRanges, err = readRanges(ctx, tx, id, nil); err != nil {
			return err
		}
		wasMaster := u.Role == auth.RoleMaster
		if err := change(&u); err != nil {
			return err
		}
		if wasMaster && (u.Role != auth.RoleMaster || u.DeletedAt != nil) {
			if err := checkOtherMaster(ctx, tx, id); err != nil {
				return err
			}
		}
		_, err = tx.Exec(ctx, `
			UPDATE users.users
			   SET password_hash = $2, role = $3, name = $4, nickname = $5, token_version = $6,
			       modified_at = $7, modified_by = $8, deleted_at = $9, deleted_by = $10
			 WHERE id = $1`,
			id, u.PasswordHash, u.Role, u.Name, u.Nickname, u.TokenVersion,
			u.ModifiedAt, u.ModifiedBy, u.DeletedAt, u.DeletedBy)
		if err != nil {
			return fmt.Errorf("write user: %w", err)
		}
		if u.TokensRevoked() {
			if err := auth.RecordUserRevocation(ctx, tx, id, u.TokenVersion, s.accessTTL); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, `DELETE FROM users.chat_time_ranges WHERE user_id = $1`, id); err != nil {
			return fmt.Errorf("clear chat time ranges: %w", err)
		}
		if err := writeRanges(ctx, tx, id, u.ChatTimeRanges); err != nil {
			return err
		}
		out = u
		return nil
	})
	if err != nil {
		return User{}, fmt.Errorf("update user %s: %w", id, err)
	}
	return out, nil
}

// checkOtherMaster refuses to let the last live MASTER go. The advisory lock serialises
// such changes, so two masters demoting each other at once cannot both pass.
func checkOtherMaster(ctx context.Context, tx pgx.Tx, id uuid.UUID) error {
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('users.last-master'))`); err != nil {
		return fmt.Errorf("lock masters: %w", err)
	}
	var others int
	err := tx.QueryRow(ctx, `
		SELECT count(*) FROM users.users WHERE role = 'MASTER' AND deleted_at IS NULL AND id <> $1`, id).Scan(&others)
	if err != nil {
		return fmt.Errorf("count masters: %w", err)
	}
	if others == 0 {
		return ErrLastMaster
	}
	return nil
}

// ChatRanges returns the live user's ranges on day, or only those containing at when at
// is not nil.
func (s *Store) ChatRanges(ctx context.Context, id uuid.UUID, day time.Weekday, at *Clock) ([]ChatTimeRange, error) {
	var exists bool
	if err := s.db.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM users.users WHERE id = $1 AND deleted_at IS NULL)`, id).Scan(&exists); err != nil {
		return nil, fmt.Errorf("look up user %s: %w", id, err)
	}
	if !exists {
		return nil, ErrNotFound
	}
	all, err := readRanges(ctx, s.db, id, &day)
	if err != nil {
		return nil, err
	}
	out := all[:0]
	for _, r := range all {
		if at == nil || r.Contains(*at) {
			out = append(out, r)
		}
	}
	return out, nil
}

type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

func readRanges(ctx context.Context, q querier, id uuid.UUID, day *time.Weekday) ([]ChatTimeRange, error) {
	var iso *int
	if day != nil {
		d := isoDay(*day)
		iso = &d
	}
	rows, err := q.Query(ctx, `
		SELECT day_of_week, start_time, end_time FROM users.chat_time_ranges
		 WHERE user_id = $1 AND ($2::smallint IS NULL OR day_of_week = $2)
		 ORDER BY day_of_week, start_time`, id, iso)
	if err != nil {
		return nil, fmt.Errorf("read chat time ranges: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (ChatTimeRange, error) {
		var day int
		var start, end pgtype.Time
		if err := row.Scan(&day, &start, &end); err != nil {
			return ChatTimeRange{}, err
		}
		return ChatTimeRange{
			Day:   weekdayOfISO(day),
			Start: Clock(start.Microseconds / 1_000_000),
			End:   Clock(end.Microseconds / 1_000_000),
		}, nil
	})
	if err != nil {
		return nil, fmt.Errorf("read chat time ranges: %w", err)
	}
	return out, nil
}

func writeRanges(ctx context.Context, tx pgx.Tx, id uuid.UUID, ranges []ChatTimeRange) error {
	if len(ranges) == 0 {
		return nil
	}
	_, err := tx.CopyFrom(ctx, pgx.Identifier{"users", "chat_time_ranges"},
		[]string{"user_id", "day_of_week", "start_time", "end_time"},
		pgx.CopyFromSlice(len(ranges), func(i int) ([]any, error) {
			r := ranges[i]
			return []any{id, int16(isoDay(r.Day)),
				pgtype.Time{Microseconds: r.Start.Microseconds(), Valid: true},
				pgtype.Time{Microseconds: r.End.Microseconds(), Valid: true}}, nil
		}))
	if err != nil {
		return fmt.Errorf("write chat time ranges: %w", err)
	}
	return nil
}
