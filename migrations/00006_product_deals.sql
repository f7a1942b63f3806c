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

-- Text search on name and description. A stored column rather than an expression index:
-- the planner keeps statistics on a column (a fine histogram here), which is how it tells
-- a common word (walk an index in sort order and stop early) from a rare one (use the
-- trigram index).
ALTER TABLE products.products
    ADD COLUMN search_text text GENERATED ALWAYS AS (lower(name || ' ' || description)) STORED;
ALTER TABLE products.products ALTER COLUMN search_text SET STATISTICS 1000;
CREATE INDEX products_text_trgm ON products.products
    USING gin (search_text gin_trgm_ops) WHERE deleted_at IS NULL;
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
    DROP COLUMN search_text, DROP COLUMN failed_at, DROP COLUMN failure_reason, DROP COLUMN reservation_version, DROP COLUMN buyer_id;
ALTER TABLE products.products DROP CONSTRAINT products_status_check;
ALTER TABLE products.products ADD CONSTRAINT products_status_check CHECK (status IN
    ('PENDING_RESERVATION', 'RESERVING', 'IN_TRADE', 'COMPLETED', 'SALE_CANCELED', 'EXPIRED'));
