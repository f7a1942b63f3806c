# 8949 market. `make dev` runs the platform locally; `make test` runs every test.
SHELL := /usr/bin/env bash
GO    ?= go
PKGS  ?= ./...

.PHONY: help dev up test test-short faults fuzz bench migrate migrate-status migrate-reset manifest openapi deadletters deadletters-replay fmt vet lint build services infra-check images

## dev: make sure PostgreSQL and Redis run, build bin/dev (the first build compiles everything: several minutes, packages listed as they compile; later ones seconds), then run every function, chat and the backbone on http://localhost:8080
dev: services
	@echo "make dev: building bin/dev; the first build compiles every package and takes several minutes (listed below as they compile), later builds take seconds"
	$(GO) build -v -o bin/dev ./cmd/dev
	./bin/dev

## up: the deployed shape on this machine: every function its own process behind an API Gateway stand-in, the relay, the chat server, the Pub/Sub emulator with push subscriptions (BACKBONE=kafka: a standalone broker and the bridge), wired from the manifest as Terraform wires them
up: services
	$(GO) run ./cmd/up

## test: every test against real PostgreSQL and Redis (started if needed)
test: services
	$(GO) vet $(PKGS)
	$(GO) test -count=1 -timeout 20m $$($(GO) list $(PKGS) | grep -v '/cmd/dev$$')
	$(MAKE) --no-print-directory faults

## test-short: the quick loop: go vet, then the tests of the domain, kit and platform-kit packages (shared/..., migrations) against PostgreSQL and Redis; not functions/, chat-server, the relay, the dev stack, the fault suite or fuzzing (make test runs all of them)
test-short: services
	$(GO) vet $(PKGS)
	$(GO) test -count=1 -short -timeout 10m $$($(GO) list ./shared/... ./migrations/... | grep -v '/shared/devstack')

## lint: golangci-lint with .golangci.yaml (installed into bin/ by scripts/lint.sh on first use: a few minutes; then no network); ARGS='./shared/...' lints some packages only
lint:
	GO=$(GO) bash scripts/lint.sh $(ARGS)

## faults: the fault suite (cmd/dev): make dev killed -9, Redis restarted empty, PostgreSQL restarted, the broker frozen, each on a PostgreSQL and Redis of its own; run apart from the other tests (make test runs it last) so its load does not slow them, with -v so its counts show
faults: services
	$(GO) test -count=1 -timeout 20m -v ./cmd/dev/

## fuzz: each fuzz target (func Fuzz* in any _test.go) for FUZZTIME (default 10s), one go test -fuzz at a time (scripts/fuzz.sh; CI runs it after make test); their seed corpora also run in make test
fuzz:
	GO=$(GO) FUZZTIME=$(or $(FUZZTIME),10s) bash scripts/fuzz.sh

## bench: the benchmarks, printed as tables, one package at a time so they do not compete for the cores (never part of make test)
bench: services
	$(GO) test -p 1 -run '^$$' -bench . -benchmem -timeout 30m $(PKGS)

## services: start (installing if needed) PostgreSQL and Redis unless DATABASE_URL / REDIS_URL point elsewhere
services:
	@bash scripts/services.sh

## migrate: apply the migrations to DATABASE_URL
migrate: services
	$(GO) run ./cmd/migrate up

## migrate-status: the applied and pending migrations of DATABASE_URL
migrate-status:
	$(GO) run ./cmd/migrate status

## migrate-reset: roll back every migration on DATABASE_URL
migrate-reset:
	$(GO) run ./cmd/migrate reset

## manifest: regenerate infra/terraform/functions.json (Terraform) and infra/compose/bridge-targets.json (docker compose) from the function registry
manifest:
	$(GO) run ./cmd/manifest -o infra/terraform/functions.json -compose infra/compose/bridge-targets.json -dashboards infra/terraform/dashboards -grafana infra/compose/observability/grafana/dashboards

## openapi: regenerate the API reference (shared/apidocs/openapi.json, OpenAPI 3.1, served at /api/v1/docs/) and API Gateway's Swagger 2.0 config (infra/terraform/gateway.json) from the function registry, the Go types of each route's endpoint.Spec and the chat server's reference; a test fails when either is stale
openapi:
	$(GO) run ./cmd/openapi

## deadletters: list FAILED outbox rows, events a consumer has not recorded, and dead-lettered messages, with their errors (TOPIC_PREFIX dev- unless set; ARGS='-topic product-created -json')
deadletters:
	TOPIC_PREFIX=$${TOPIC_PREFIX:-dev-} $(GO) run ./cmd/deadletters list $(ARGS)

## deadletters-replay: once the cause is fixed, replay them: outbox rows back to PENDING, dead-lettered messages published to their topics and taken off (ARGS='-topic product-created')
deadletters-replay:
	TOPIC_PREFIX=$${TOPIC_PREFIX:-dev-} $(GO) run ./cmd/deadletters replay $(ARGS)

## build: the binaries into bin/
build:
	CGO_ENABLED=0 $(GO) build -trimpath -o bin/ ./cmd/... ./chat-server/cmd/... ./outbox-relay/cmd/...

## infra-check: terraform fmt, terraform validate (when its providers can be installed) and the Go tests that check Terraform, compose and docs against the registry
infra-check:
	@if command -v terraform >/dev/null; then \
		terraform fmt -check -recursive infra/ && \
		if terraform -chdir=infra/terraform init -backend=false -input=false >/dev/null 2>&1; then \
			terraform -chdir=infra/terraform validate; \
		else echo "infra-check: terraform providers cannot be installed here; skipping terraform validate"; fi; \
	else echo "infra-check: terraform not installed; skipping terraform fmt and validate (the Go test checks the format)"; fi
	$(GO) test -count=1 ./infra/ ./infra/cmd/jwk/

## images: build the functions, outbox-relay and chat-server images with Docker (IMAGE_REPO, default market; IMAGE_TAG, default dev)
images:
	@command -v docker >/dev/null || { echo "make images: docker is not installed" >&2; exit 1; }
	@docker info >/dev/null 2>&1 || { echo "make images: no Docker engine answers (docker info)" >&2; exit 1; }
	for target in functions outbox-relay chat-server; do \
		docker build -f infra/docker/Dockerfile --target $$target -t $(or $(IMAGE_REPO),market)/$$target:$(or $(IMAGE_TAG),dev) . || exit 1; \
	done

## fmt: format every Go file (gofmt; make lint also checks goimports grouping)
fmt:
	gofmt -w .

## vet: go vet on every package
vet:
	$(GO) vet $(PKGS)

## help: these descriptions
help:
	@grep -E '^## ' Makefile | sed 's/^## //'
