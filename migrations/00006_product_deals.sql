-- Time deals in full (issue: products): a FAILED state an administrator can see, the
-- reservation's buyer as the products domain last heard of it, and the indexes search
-- and the products-tick use.

-- +goose Up
CREATE EXTENSION IF NOT EXISTS pg_trgm;

ALTER TABLE products.products DROP CONSTRAINT products_status_check;
ALTER TABLE products.products ADD CONSTRAINT products_status_check CHECK (status IN
    ('PENDING_RESERVATION', 'RESERVING', 'IN_TRADE', 'COMPLETED', 'SALE_CANCELED', 'EXPIRED', 'FAILED'));

ALTER TABLE products.products
    -- The reservation's current buyer (reservation-applied), cleared when the reservation
    -- is cancelled: a deal with a buyer does not expire at end_time.
    ADD COLUMN buyer_id            uuid,
    -- The highest reservation version applied: reservation events travel on several
    -- topics and may arrive out of order.
    ADD COLUMN reservation_version bigint NOT NULL DEFAULT 0,
    -- Why the deal failed or a trade could not be opened; shown, never silent.
    ADD COLUMN failure_reason      text,
    ADD COLUMN failed_at           timestamptz;

-- Text search on name and description.
CREATE INDEX products_text_trgm ON products.products
    USING gin ((name || ' ' || description) gin_trgm_ops) WHERE deleted_at IS NULL;
-- The three sort orders of search, each with the id as tie-breaker.
CREATE INDEX products_start_idx ON products.products (start_time, id) WHERE deleted_at IS NULL;
CREATE INDEX products_price_idx ON products.products (price, id) WHERE deleted_at IS NULL;
CREATE INDEX products_created_idx ON products.products (created_at DESC, id DESC) WHERE deleted_at IS NULL;
-- The tick's two sweeps.
CREATE INDEX products_to_open_idx ON products.products (start_time)
    WHERE status = 'PENDING_RESERVATION' AND deleted_at IS NULL;
CREATE INDEX products_to_expire_idx ON products.products (end_time)
    WHERE status IN ('PENDING_RESERVATION', 'RESERVING') AND buyer_id IS NULL AND deleted_at IS NULL;

-- +goose Down
DROP INDEX products.products_to_expire_idx;
DROP INDEX products.products_to_open_idx;
DROP INDEX products.products_created_idx;
DROP INDEX products.products_price_idx;
DROP INDEX products.products_start_idx;
DROP INDEX products.products_text_trgm;
ALTER TABLE products.products
    DROP COLUMN failed_at, DROP COLUMN failure_reason, DROP COLUMN reservation_version, DROP COLUMN buyer_id;
ALTER TABLE products.products DROP CONSTRAINT products_status_check;
ALTER TABLE products.products ADD CONSTRAINT products_status_check CHECK (status IN
    ('PENDING_RESERVATION', 'RESERVING', 'IN_TRADE', 'COMPLETED', 'SALE_CANCELED', 'EXPIRED'));
