#!/usr/bin/env bash
# Installs golangci-lint (the version below) into bin/ when it is missing or another
# version, then runs it with .golangci.yaml (make lint; CI runs it before make test).
#
#   bash scripts/lint.sh                # install if needed, then lint ./...
#   bash scripts/lint.sh --install-only # install if needed (CI does this first)
#   bash scripts/lint.sh ./shared/...   # lint some packages only
#
# Why `go install pkg@version` into bin/ and not a tool directive: the main go.mod stays
# free of the linter's ~200 modules, and `@version` builds golangci-lint from exactly its
# own go.mod and go.sum (what its authors test), checked against the checksum database.
# The first install downloads and compiles it through the Go module proxy (several
# minutes on a cold machine); after that, make lint needs no network.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

VERSION=v2.15.0
GO=${GO:-go}
BIN="$PWD/bin"
LINT="$BIN/golangci-lint"

installed() {
	[[ -x "$LINT" ]] && "$LINT" version 2>/dev/null | grep -q "version ${VERSION#v} "
}

if ! installed; then
	echo "lint: installing golangci-lint $VERSION into bin/ (first time: several minutes)" >&2
	mkdir -p "$BIN"
	GOBIN="$BIN" GOFLAGS= "$GO" install "github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$VERSION"
	installed || { echo "lint: $LINT is not golangci-lint $VERSION after the install" >&2; exit 1; }
fi

if [[ "${1:-}" == --install-only ]]; then
	exit 0
fi
(($# > 0)) || set -- ./...
exec "$LINT" run "$@"
