#!/usr/bin/env bash
# Runs every fuzz target of the module for FUZZTIME each (default 10s): make fuzz, and CI
# after make test. go test fuzzes one target per invocation, so each runs on its own. A
# target is any `func FuzzXxx(f *testing.F)` in a _test.go file, found by name here: a new
# one needs no registration. Their seed corpora (f.Add and testdata/fuzz/FuzzXxx/) also
# run as ordinary tests under make test.
#
#   FUZZTIME=1m bash scripts/fuzz.sh                 # longer
#   FUZZ='FuzzDecode|FuzzCursor' bash scripts/fuzz.sh  # only the targets matching a regexp
#
# A failing input is written to <package>/testdata/fuzz/<target>/; commit it with the fix,
# so it stays a seed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

GO=${GO:-go}
FUZZTIME=${FUZZTIME:-10s}
FUZZ=${FUZZ:-.}

targets=()
while IFS= read -r file; do
	pkg=./$(dirname "${file#./}")
	while IFS= read -r name; do
		[[ $name =~ $FUZZ ]] && targets+=("$pkg $name")
	done < <(sed -nE 's/^func (Fuzz[A-Za-z0-9_]*)\(.*\*testing\.F\).*/\1/p' "$file")
done < <(grep -rl --include='*_test.go' --exclude-dir=testdata --exclude-dir=.git --exclude-dir=vendor \
	'^func Fuzz' . | sort)

if ((${#targets[@]} == 0)); then
	echo "fuzz: no fuzz targets match ${FUZZ}" >&2
	exit 1
fi

echo "fuzz: ${#targets[@]} targets, ${FUZZTIME} each"
failed=()
start=$SECONDS
for target in "${targets[@]}"; do
	read -r pkg name <<<"$target"
	echo "--- ${name} (${pkg})"
	if ! "$GO" test -run '^$' -fuzz "^${name}\$" -fuzztime "$FUZZTIME" "$pkg"; then
		failed+=("$name ($pkg)")
	fi
done

echo "fuzz: ${#targets[@]} targets in $((SECONDS - start))s"
if ((${#failed[@]} > 0)); then
	printf 'fuzz: FAILED %s\n' "${failed[@]}" >&2
	echo "fuzz: each failing input is in its package's testdata/fuzz/<target>/; reproduce with go test -run '<target>/<file>' <package>" >&2
	exit 1
fi
