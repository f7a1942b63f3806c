-- One reservation per product (reference section 6.1), created from product-created
-- before the deal opens. The applicant queue and history come with the reservations
-- domain.

-- +goose Up
CREATE TABLE reservations.reservations (
    id              uuid        PRIMARY KEY,
    product_id      uuid        NOT NULL UNIQUE,
    seller_id       uuid        NOT NULL,
    seller_nickname text        NOT NULL,
    product_name    text        NOT NULL,
    product_price   bigint      NOT NULL CHECK (product_price > 0),
    start_time      timestamptz NOT NULL,
    end_time        timestamptz NOT NULL,
    status          text        NOT NULL CHECK (status IN
                      ('AVAILABLE', 'PENDING', 'PAID', 'COMPLETED', 'CANCELLED', 'CLOSED')),
    buyer_id        uuid,
    buyer_nickname  text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    modified_at     timestamptz NOT NULL DEFAULT now(),
    version         bigint      NOT NULL DEFAULT 0
);

CREATE INDEX reservations_seller_idx ON reservations.reservations (seller_id, created_at DESC);

-- +goose Down
DROP TABLE IF EXISTS reservations.reservations;
