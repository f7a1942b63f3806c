-- Trades (reference section 7, gaps 30-31 fixed): one per completed reservation, the
-- two parties' progress, and a history of who changed what and why.

-- +goose Up
CREATE TABLE trades.trades (
    id              uuid        PRIMARY KEY,
    reservation_id  uuid        NOT NULL UNIQUE,
    product_id      uuid        NOT NULL,
    product_name    text        NOT NULL,
    product_price   bigint      NOT NULL CHECK (product_price > 0),
    buyer_id        uuid        NOT NULL,
    buyer_nickname  text        NOT NULL,
    seller_id       uuid        NOT NULL,
    seller_nickname text        NOT NULL,
    status          text        NOT NULL CHECK (status IN ('TRADING', 'COMPLETED', 'CANCELLED')),
    buyer_status    text        NOT NULL CHECK (buyer_status IN ('TRADING', 'COMPLETED', 'CANCELLED')),
    seller_status   text        NOT NULL CHECK (seller_status IN ('TRADING', 'COMPLETED', 'CANCELLED')),
    chat_room_id    uuid,
    version         bigint      NOT NULL DEFAULT 0,
    created_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
    modified_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
    CONSTRAINT trades_two_parties CHECK (buyer_id <> seller_id)
);
CREATE INDEX trades_buyer_idx ON trades.trades (buyer_id, created_at DESC, id DESC);
CREATE INDEX trades_seller_idx ON trades.trades (seller_id, created_at DESC, id DESC);
CREATE INDEX trades_created_idx ON trades.trades (created_at DESC, id DESC);

CREATE TABLE trades.history (
    id                   uuid        PRIMARY KEY,
    trade_id             uuid        NOT NULL REFERENCES trades.trades (id),
    previous_status      text,
    new_status           text        NOT NULL,
    actor_id             uuid,       -- NULL: the system
    actor_side           text        CHECK (actor_side IN ('BUYER', 'SELLER', 'ADMIN', 'SYSTEM')),
    cancel_reason_type   text,
    cancel_reason_detail text,
    created_at           timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX trades_history_idx ON trades.history (trade_id, created_at);

-- +goose Down
DROP TABLE trades.history;
DROP TABLE trades.trades;
