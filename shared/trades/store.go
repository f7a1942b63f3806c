package trades

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/events"
	"github.com/8949market/market/shared/outbox"
)

// Store keeps trades in the trades schema.
type Store struct {
	db *pgxpool.Pool
}

// NewStore returns a store on db.
func NewStore(db *pgxpool.Pool) *Store { return &Store{db: db} }

const tradeColumns = `id, reservation_id, status, buyer_id, buyer_nickname, buyer_status, seller_id, seller_nickname,
	seller_status, product_id, product_name, product_price, chat_room_id, version, created_at, modified_at`

func scan(row pgx.Row) (Trade, error) {
	var t Trade
	err := row.Scan(&t.ID, &t.ReservationID, &t.Status, &t.BuyerID, &t.BuyerNickname, &t.BuyerStatus, &t.SellerID,
		&t.SellerNickname, &t.SellerStatus, &t.ProductID, &t.ProductName, &t.ProductPrice, &t.ChatRoomID, &t.Version,
		&t.CreatedAt, &t.ModifiedAt)
	t.CreatedAt, t.ModifiedAt = t.CreatedAt.UTC(), t.ModifiedAt.UTC()
	return t, err
}

// Get returns trade id to a participant or an administrator.
func (s *Store) Get(ctx context.Context, id uuid.UUID, caller auth.Identity) (Trade, error) {
	t, err := scan(s.db.QueryRow(ctx, `SELECT `+tradeColumns+` FROM trades.trades WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return Trade{}, ErrNotFound
	}
	if err != nil {
		return Trade{}, fmt.Errorf("get trade %s: %w", id, err)
	}
	if err := t.Visible(caller); err != nil {
		return Trade{}, err
	}
	return t, nil
}

// Update runs change on trade id under its row lock and writes the trade, its history
// and the events the change announces in one transaction; if change fails, nothing is
// written. The lock makes concurrent completions and cancellations of one trade take
// turns, each deciding on the state the previous one left, so exactly one closes it.
func (s *Store) Update(ctx context.Context, id uuid.UUID, change func(t *Trade) error) (Trade, error) {
	var out Trade
	err := pgx.BeginFunc(ctx, s.db, func(tx pgx.Tx) error {
		t, err := UpdateTx(ctx, tx, id, func(t *Trade) (bool, error) { return true, change(t) })
		out = t
		return err
	})
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && (pgErr.Code == "40001" || pgErr.Code == "40P01") {
		return Trade{}, ErrConcurrent.Wrap(err)
	}
	if err != nil {
		return Trade{}, err
	}
	return out, nil
}

// UpdateTx is Update inside the caller's transaction (event consumers run in their inbox
// transaction); if tx is rolled back, so is the change. change reports whether it changed
// anything; if not, nothing is written. A trade that does not exist is ErrNotFound.
func UpdateTx(ctx context.Context, tx pgx.Tx, id uuid.UUID, change func(t *Trade) (bool, error)) (Trade, error) {
	t, err := scan(tx.QueryRow(ctx, `SELECT `+tradeColumns+` FROM trades.trades WHERE id = $1 FOR UPDATE`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return Trade{}, ErrNotFound
	}
	if err != nil {
		return Trade{}, fmt.Errorf("lock trade %s: %w", id, err)
	}
	changed, err := change(&t)
	if err != nil || !changed {
		return t, err
	}
	err = tx.QueryRow(ctx, `
		UPDATE trades.trades SET status = $2, buyer_status = $3, seller_status = $4, chat_room_id = $5, version = $6,
		       modified_at = clock_timestamp()
		 WHERE id = $1 RETURNING modified_at`,
		t.ID, t.Status, t.BuyerStatus, t.SellerStatus, t.ChatRoomID, t.Version).Scan(&t.ModifiedAt)
	if err != nil {
		return Trade{}, fmt.Errorf("write trade %s: %w", id, err)
	}
	t.ModifiedAt = t.ModifiedAt.UTC()
	return t, flush(ctx, tx, &t)
}

// CreateTx inserts the new trade t (New) in tx with its history and events, once per
// reservation: if the reservation has a trade already, nothing is written and created is
// false. If tx is rolled back, so is the trade.
func CreateTx(ctx context.Context, tx pgx.Tx, t Trade) (created bool, err error) {
	tag, err := tx.Exec(ctx, `
		INSERT INTO trades.trades (id, reservation_id, product_id, product_name, product_price, buyer_id, buyer_nickname,
		                           seller_id, seller_nickname, status, buyer_status, seller_status)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
		ON CONFLICT (reservation_id) DO NOTHING`,
		t.ID, t.ReservationID, t.ProductID, t.ProductName, t.ProductPrice, t.BuyerID, t.BuyerNickname, t.SellerID,
		t.SellerNickname, t.Status, t.BuyerStatus, t.SellerStatus)
	if err != nil {
		return false, fmt.Errorf("open trade for reservation %s: %w", t.ReservationID, err)
	}
	if tag.RowsAffected() == 0 {
		return false, nil
	}
	return true, flush(ctx, tx, &t)
}

// flush writes what the rules recorded on t: a history row and an event per transition.
func flush(ctx context.Context, tx pgx.Tx, t *Trade) error {
	for _, tr := range t.pending {
		_, err := tx.Exec(ctx, `
			INSERT INTO trades.history (id, trade_id, previous_status, new_status, actor_id, actor_side, cancel_reason_type, cancel_reason_detail)
			VALUES ($1, $2, $3, $4, $5, $6, nullif($7, ''), nullif($8, ''))`,
			uuid.New(), t.ID, tr.from, tr.to, tr.actor, tr.side, tr.reasonType, tr.detail)
		if err != nil {
			return fmt.Errorf("write trade history: %w", err)
		}
		err = outbox.Write(ctx, tx, outbox.Event{Topic: tr.topic, Source: events.SourceTrades, AggregateID: t.ID.String(), Data: t.data(tr.reason)})
		if err != nil {
			return err
		}
	}
	t.pending = nil
	return nil
}
