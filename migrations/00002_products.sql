-- Products and their time-deal window (reference section 5, with gaps 13-19 fixed):
-- times are timestamptz in UTC, price is 64-bit and positive, soft-deleted rows are kept
-- for audit but never listed.

-- +goose Up
CREATE TABLE products.products (
    id               uuid        PRIMARY KEY,
    seller_id        uuid        NOT NULL,
    seller_nickname  text        NOT NULL,
    name             text        NOT NULL CHECK (length(btrim(name)) BETWEEN 1 AND 100),
    description      text        NOT NULL DEFAULT '' CHECK (length(description) <= 2000),
    price            bigint      NOT NULL CHECK (price > 0),
    status           text        NOT NULL CHECK (status IN
                       ('PENDING_RESERVATION', 'RESERVING', 'IN_TRADE', 'COMPLETED', 'SALE_CANCELED', 'EXPIRED')),
    start_time       timestamptz NOT NULL,
    end_time         timestamptz NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    created_by       uuid        NOT NULL,
    modified_at      timestamptz NOT NULL DEFAULT now(),
    modified_by      uuid        NOT NULL,
    deleted_at       timestamptz,
    deleted_by       uuid,
    CONSTRAINT products_window CHECK (end_time >= start_time + interval '15 minutes')
);

CREATE INDEX products_seller_idx ON products.products (seller_id, created_at DESC, id DESC)
    WHERE deleted_at IS NULL;

-- +goose Down
DROP TABLE IF EXISTS products.products;
