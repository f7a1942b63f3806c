-- Access-token revocations, kept where a Redis restart cannot lose them (issue 15). Redis
-- and every process's in-memory copy are rebuilt from these rows when Redis comes back
-- empty, and the verifier asks them while Redis cannot be trusted (shared/auth). Rows
-- live as long as the tokens they void could, and are pruned after that.
--
-- No foreign key to users.users: accounts are only ever soft-deleted, and a revocation
-- must be recordable for any token id or account a verifier may meet.

-- +goose Up
-- One row per logged-out (or reissued) access token: denied until it would have expired.
CREATE TABLE users.revoked_tokens (
    jti        text        PRIMARY KEY,
    expires_at timestamptz NOT NULL
);
CREATE INDEX revoked_tokens_expires_idx ON users.revoked_tokens (expires_at);

-- One row per account whose token version was raised (password or role change, deletion):
-- its tokens below min_version are void. Written in the transaction of the change.
CREATE TABLE users.revoked_versions (
    user_id     uuid        PRIMARY KEY,
    min_version bigint      NOT NULL,
    expires_at  timestamptz NOT NULL
);
CREATE INDEX revoked_versions_expires_idx ON users.revoked_versions (expires_at);

-- +goose Down
DROP TABLE users.revoked_versions;
DROP TABLE users.revoked_tokens;
