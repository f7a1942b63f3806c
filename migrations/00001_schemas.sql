-- One schema per domain plus messaging (docs/design.md §1, Data). A domain's code touches
-- only its own schema and messaging, so any schema can later move to its own instance.

-- +goose Up
CREATE SCHEMA IF NOT EXISTS users;
CREATE SCHEMA IF NOT EXISTS products;
CREATE SCHEMA IF NOT EXISTS reservations;
CREATE SCHEMA IF NOT EXISTS trades;
CREATE SCHEMA IF NOT EXISTS chat;
CREATE SCHEMA IF NOT EXISTS messaging;

-- +goose Down
DROP SCHEMA IF EXISTS messaging CASCADE;
DROP SCHEMA IF EXISTS chat CASCADE;
DROP SCHEMA IF EXISTS trades CASCADE;
DROP SCHEMA IF EXISTS reservations CASCADE;
DROP SCHEMA IF EXISTS products CASCADE;
DROP SCHEMA IF EXISTS users CASCADE;
