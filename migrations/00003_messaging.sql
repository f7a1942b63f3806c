-- The transactional outbox and the consumer inbox (docs/design.md §4; reference gaps 1-8
-- fixed): every row is relayed (no retry_count = 0 blind spot), a claim is a lease that
-- expires if its relay dies, rows of one aggregate leave in order, and the inbox records
-- the effect in the consumer's own transaction.

-- +goose Up
CREATE TABLE messaging.outbox (
    id              uuid        PRIMARY KEY,                  -- the CloudEvent id
    seq             bigint      GENERATED ALWAYS AS IDENTITY, -- write order, per aggregate the publish order
    topic           text        NOT NULL,                     -- event type = topic without prefix
    source          text        NOT NULL,                     -- producing domain
    aggregate_id    text        NOT NULL,                     -- CloudEvent subject; Kafka key / Pub/Sub ordering key
    payload         jsonb       NOT NULL,
    traceparent     text,
    created_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
    status          text        NOT NULL DEFAULT 'PENDING' CHECK (status IN ('PENDING', 'SENT', 'FAILED')),
    attempts        integer     NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    locked_by       text,
    locked_until    timestamptz,
    last_error      text,
    sent_at         timestamptz
);

-- The relay's work list, in write order.
CREATE INDEX outbox_pending_idx ON messaging.outbox (seq) WHERE status = 'PENDING';
-- "Which aggregates have a row on its way?": rows under a lease, and rows backing off
-- after a failed publish. Both sets stay small whatever the backlog, so the claim's
-- ordering check costs little.
CREATE INDEX outbox_leased_idx ON messaging.outbox (aggregate_id, seq)
    WHERE status = 'PENDING' AND locked_until IS NOT NULL;
CREATE INDEX outbox_retrying_idx ON messaging.outbox (aggregate_id, seq)
    WHERE status = 'PENDING' AND attempts > 0;
-- Pruning of sent rows.
CREATE INDEX outbox_sent_idx ON messaging.outbox (sent_at) WHERE status = 'SENT';

-- Wake the relay when rows commit (NOTIFY is delivered at commit, once per transaction).
-- +goose StatementBegin
CREATE FUNCTION messaging.outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('messaging_outbox', '');
    RETURN NULL;
END $$;
-- +goose StatementEnd

CREATE TRIGGER outbox_notify AFTER INSERT ON messaging.outbox
    FOR EACH STATEMENT EXECUTE FUNCTION messaging.outbox_notify();

CREATE TABLE messaging.inbox (
    consumer     text        NOT NULL,  -- the consumer function's name
    event_id     uuid        NOT NULL,
    topic        text        NOT NULL,
    processed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, event_id)
);

CREATE INDEX inbox_processed_idx ON messaging.inbox (processed_at);

-- +goose Down
DROP TABLE IF EXISTS messaging.inbox;
DROP TRIGGER IF EXISTS outbox_notify ON messaging.outbox;
DROP FUNCTION IF EXISTS messaging.outbox_notify();
DROP TABLE IF EXISTS messaging.outbox;
