# 8949 market. `make dev` runs the platform locally; `make test` runs every test.
SHELL := /usr/bin/env bash
GO    ?= go
PKGS  ?= ./...

.PHONY: dev test test-short bench migrate migrate-status migrate-reset manifest fmt vet lint build services

## dev: make sure PostgreSQL and Redis run, then run every function, chat and the backbone on http://localhost:8080
dev: services
	$(GO) run ./cmd/dev

## test: every test against real PostgreSQL and Redis (started if needed)
test: services
	$(GO) vet $(PKGS)
	$(GO) test -count=1 -timeout 20m $(PKGS)

## bench: the benchmarks, printed as tables, one package at a time so they do not compete for the cores (never part of make test)
bench: services
	$(GO) test -p 1 -run '^$$' -bench . -benchmem -timeout 30m $(PKGS)

## services: start (installing if needed) PostgreSQL and Redis unless DATABASE_URL / REDIS_URL point elsewhere
services:
	@bash scripts/services.sh

## migrate: apply the migrations to DATABASE_URL
migrate: services
	$(GO) run ./cmd/migrate up

migrate-status:
	$(GO) run ./cmd/migrate status

migrate-reset:
	$(GO) run ./cmd/migrate reset

## manifest: regenerate infra/terraform/functions.json from the function registry
manifest:
	$(GO) run ./cmd/manifest -o infra/terraform/functions.json

## build: the binaries into bin/
build:
	CGO_ENABLED=0 $(GO) build -trimpath -o bin/ ./cmd/... ./chat-server/cmd/... ./outbox-relay/cmd/...

fmt:
	gofmt -w .

vet:
	$(GO) vet $(PKGS)

help:
	@grep -E '^## ' Makefile | sed 's/^## //'
