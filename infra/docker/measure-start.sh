#!/usr/bin/env bash
# Measure how long the functions binary takes from exec to its first HTTP answer, for one
# FUNCTION_TARGET: the port accepting connections (what Cloud Run's startup probe waits
# for) and the function answering a request on it.
#
#   bash infra/docker/measure-start.sh [function] [runs]     # default products-get, 15 runs
#
# Builds the binary as the image does (CGO_ENABLED=0, -trimpath), then starts it RUNS
# times on a free port, polling the port from this shell without forking (bash's
# /dev/tcp), so the figure is the binary's start and not the poller's. Needs the
# database and Redis of DATABASE_URL / REDIS_URL reachable (make services), like a
# deployed function. Prints every run, then min and median in milliseconds. The request
# is a bare GET /: any status line (a refusal included) shows the function is serving.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

target="${1:-products-get}"
runs="${2:-15}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

CGO_ENABLED=0 go build -trimpath -o "$tmp/fn" ./cmd/functions

# A JWT key set, as every deployed function has one (the value is irrelevant to timing).
jwks="$(go run ./infra/cmd/jwk new -kid measure -out "$tmp" >/dev/null && cat "$tmp/jwks.json")"

now_us() { local t="${EPOCHREALTIME/./}"; echo "$t"; }

times=()
for ((i = 1; i <= runs; i++)); do
	# Below the ephemeral range: polling a closed ephemeral port can connect it to itself.
	port=$((20000 + RANDOM % 10000))
	start="$(now_us)"
	FUNCTION_TARGET="$target" PORT="$port" JWT_PUBLIC_KEYS="$jwks" LOG_LEVEL=warn "$tmp/fn" >"$tmp/log" 2>&1 &
	pid=$!
	until exec 3<>"/dev/tcp/127.0.0.1/$port"; do
		if ! kill -0 "$pid" 2>/dev/null; then
			echo "measure-start: the function exited:" >&2
			cat "$tmp/log" >&2
			exit 1
		fi
	done 2>/dev/null
	printf 'GET / HTTP/1.1\r\nHost: measure\r\nConnection: close\r\n\r\n' >&3
	IFS= read -r status <&3
	end="$(now_us)"
	exec 3>&-
	[[ "$status" == HTTP/1.1\ * ]] || { echo "measure-start: no HTTP answer: $status" >&2; exit 1; }
	kill "$pid"
	wait "$pid" 2>/dev/null || true
	ms="$(awk -v d=$((end - start)) 'BEGIN { printf "%.1f", d / 1000 }')"
	times+=("$ms")
	echo "run $i: ${ms} ms (${status%$'\r'})"
done

printf '%s\n' "${times[@]}" | sort -n | awk -v target="$target" '
	{ v[NR] = $1 }
	END {
		median = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		printf "%s: %d runs, exec to first HTTP answer: min %.1f ms, median %.1f ms, max %.1f ms\n", target, NR, v[1], median, v[NR]
	}'
