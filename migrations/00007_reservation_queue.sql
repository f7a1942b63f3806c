-- The applicant queue of a reservation (reference section 6.1, gap 21 fixed: later
-- applicants queue instead of being refused). Position is the admission order, given out
-- by one atomic Redis step per reservation and confirmed here; the primary key and the
-- one-application-per-user constraint are what make a duplicate winner or a second
-- application impossible, whatever Redis says.

-- +goose Up
ALTER TABLE reservations.reservations
    ADD COLUMN buyer_position   bigint,
    ADD COLUMN payment_deadline timestamptz;

CREATE TABLE reservations.applications (
    reservation_id uuid        NOT NULL REFERENCES reservations.reservations (id),
    position       bigint      NOT NULL CHECK (position > 0),
    user_id        uuid        NOT NULL,
    nickname       text        NOT NULL,
    status         text        NOT NULL CHECK (status IN ('WAITING', 'SELECTED', 'CANCELLED', 'LEFT')),
    created_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
    modified_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (reservation_id, position),
    CONSTRAINT applications_one_per_user UNIQUE (reservation_id, user_id)
);

-- The next in line: the lowest waiting position.
CREATE INDEX applications_waiting_idx ON reservations.applications (reservation_id, position)
    WHERE status = 'WAITING';

CREATE TABLE reservations.history (
    id              uuid        PRIMARY KEY,
    reservation_id  uuid        NOT NULL REFERENCES reservations.reservations (id),
    previous_status text        NOT NULL,
    new_status      text        NOT NULL,
    comment         text        NOT NULL,
    changed_by      uuid,       -- NULL: the system (a consumer or the sweep)
    changed_at      timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX history_reservation_idx ON reservations.history (reservation_id, changed_at);

-- +goose Down
DROP TABLE reservations.history;
DROP TABLE reservations.applications;
ALTER TABLE reservations.reservations DROP COLUMN payment_deadline, DROP COLUMN buyer_position;
