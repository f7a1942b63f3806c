-- Users and their chat availability (reference section 4.1). Soft-deleted rows stay for
-- audit but free their username.

-- +goose Up
CREATE TABLE users.users (
    id            uuid PRIMARY KEY,
    username      text NOT NULL CHECK (username ~ '^[A-Za-z0-9]{8,12}$'),
    password_hash text NOT NULL,
    role          text NOT NULL CHECK (role IN ('USER', 'MANAGER', 'MASTER')),
    name          text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 20),
    nickname      text NOT NULL CHECK (char_length(nickname) BETWEEN 1 AND 20),
    -- Raised by a password or role change and by deletion: tokens of a lower version are void.
    token_version bigint NOT NULL DEFAULT 0,
    created_at    timestamptz NOT NULL,
    created_by    uuid,
    modified_at   timestamptz NOT NULL,
    modified_by   uuid,
    deleted_at    timestamptz,
    deleted_by    uuid
);

-- Usernames are unique regardless of case among live accounts.
CREATE UNIQUE INDEX users_username_key ON users.users (lower(username)) WHERE deleted_at IS NULL;
-- The admin list's default order.
CREATE INDEX users_created_idx ON users.users (created_at DESC, id DESC) WHERE deleted_at IS NULL;

CREATE TABLE users.chat_time_ranges (
    user_id     uuid NOT NULL REFERENCES users.users (id) ON DELETE CASCADE,
    day_of_week smallint NOT NULL CHECK (day_of_week BETWEEN 1 AND 7), -- ISO 8601: 1 = Monday
    start_time  time NOT NULL,
    end_time    time NOT NULL,
    CHECK (start_time < end_time),
    PRIMARY KEY (user_id, day_of_week, start_time)
);

-- +goose Down
DROP TABLE users.chat_time_ranges;
DROP TABLE users.users;
