-- Chat (reference section 8, gaps 32-35 fixed): one room per trade, its messages numbered
-- per room, and how far each member has read.

-- +goose Up
CREATE TABLE chat.rooms (
    id              uuid        PRIMARY KEY,
    trade_id        uuid        NOT NULL UNIQUE,
    product_id      uuid        NOT NULL,
    product_name    text        NOT NULL,
    seller_id       uuid        NOT NULL,
    seller_nickname text        NOT NULL,
    buyer_id        uuid        NOT NULL,
    buyer_nickname  text        NOT NULL,
    status          text        NOT NULL CHECK (status IN ('TRADING', 'COMPLETED', 'CANCELLED')),
    -- The room's message counter: a message takes last_message_id + 1 under the room's row
    -- lock, so ids commit in order and "everything after id n" never skips a late commit.
    last_message_id bigint      NOT NULL DEFAULT 0,
    last_message    text,
    last_message_at timestamptz,
    -- Lists sort by the latest activity: the last message, or the room's creation.
    active_at       timestamptz NOT NULL DEFAULT clock_timestamp(),
    created_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
    closed_at       timestamptz,
    search_text     text        GENERATED ALWAYS AS
        (lower(product_name || ' ' || seller_nickname || ' ' || buyer_nickname)) STORED,
    CONSTRAINT rooms_two_members CHECK (buyer_id <> seller_id)
);
CREATE INDEX rooms_buyer_idx ON chat.rooms (buyer_id, active_at DESC, id DESC);
CREATE INDEX rooms_seller_idx ON chat.rooms (seller_id, active_at DESC, id DESC);
CREATE INDEX rooms_active_idx ON chat.rooms (active_at DESC, id DESC);
CREATE INDEX rooms_text_trgm ON chat.rooms USING gin (search_text gin_trgm_ops);

CREATE TABLE chat.messages (
    room_id     uuid        NOT NULL REFERENCES chat.rooms (id),
    id          bigint      NOT NULL,
    sender_id   uuid        NOT NULL,
    sender_type text        NOT NULL CHECK (sender_type IN ('BUYER', 'SELLER')),
    -- The client's id for the send: a retried send finds its first copy.
    client_id   text        NOT NULL,
    content     text        NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (room_id, id),
    UNIQUE (room_id, sender_id, client_id)
);

CREATE TABLE chat.reads (
    room_id      uuid        NOT NULL REFERENCES chat.rooms (id),
    user_id      uuid        NOT NULL,
    last_read_id bigint      NOT NULL,
    read_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (room_id, user_id)
);

-- +goose Down
DROP TABLE chat.reads;
DROP TABLE chat.messages;
DROP TABLE chat.rooms;
