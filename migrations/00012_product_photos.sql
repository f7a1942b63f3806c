-- Product photos (issue 19): a photo is a row from the moment its upload slot is given
-- out; the upload-finalized consumer makes it READY with its display images, or REJECTED
-- with the reason the seller sees. Object deletions are recorded in the transaction that
-- makes them due and carried out by products-photo-sweep, so none is lost to a crash
-- between the commit and the bucket.

-- +goose Up
CREATE TABLE products.photos (
    id                uuid PRIMARY KEY,
    product_id        uuid NOT NULL REFERENCES products.products (id),
    -- The place among the product's photos, from 1; NULL once rejected (out of the order).
    position          integer CHECK (position > 0),
    status            text NOT NULL CHECK (status IN ('UPLOADING', 'READY', 'REJECTED')),
    -- What the client declared and the signature binds; the bytes decide the format.
    content_type      text NOT NULL,
    upload_object     text NOT NULL,
    upload_expires_at timestamptz NOT NULL,
    format            text,
    width             integer,
    height            integer,
    thumb_url         text,
    large_url         text,
    reject_code       text,
    reject_reason     text,
    created_at        timestamptz NOT NULL,
    created_by        uuid NOT NULL,
    processed_at      timestamptz,
    CONSTRAINT photos_ready CHECK (status <> 'READY' OR (thumb_url IS NOT NULL AND large_url IS NOT NULL AND position IS NOT NULL)),
    CONSTRAINT photos_rejected CHECK (status <> 'REJECTED' OR (reject_code IS NOT NULL AND position IS NULL)),
    -- Deferred: a reorder rewrites every position of a product in one statement.
    CONSTRAINT photos_position UNIQUE (product_id, position) DEFERRABLE INITIALLY DEFERRED
);
-- A product's shown photos in order (reads, and the thumbnail of search results).
CREATE INDEX photos_shown_idx ON products.photos (product_id, position) WHERE status = 'READY';
-- The sweep's uploads that never arrived.
CREATE INDEX photos_uploading_idx ON products.photos (upload_expires_at) WHERE status = 'UPLOADING';
CREATE INDEX photos_rejected_idx ON products.photos (processed_at) WHERE status = 'REJECTED';

-- Objects to delete from a bucket, due once their row commits.
CREATE TABLE products.photo_removals (
    bucket    text NOT NULL,
    object    text NOT NULL,
    due_at    timestamptz NOT NULL DEFAULT now(),
    attempts  integer NOT NULL DEFAULT 0,
    PRIMARY KEY (bucket, object)
);

-- +goose Down
DROP TABLE products.photo_removals;
DROP TABLE products.photos;
