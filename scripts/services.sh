#!/usr/bin/env bash
# Make sure PostgreSQL and Redis are reachable for local development and tests.
#
#   DATABASE_URL set -> only check that it answers (pg_isready) and report it.
#   otherwise        -> PostgreSQL on 127.0.0.1:5432, user postgres / password
#                       postgres (the code's default DSN); installed (root +
#                       apt-get only) and started if needed. The database itself
#                       is created by the Go code.
#   REDIS_URL set    -> only check that it answers PING and report it.
#   otherwise        -> Redis on 127.0.0.1:6379; installed (root + apt-get only)
#                       and started if needed.
#
# A PostgreSQL server this run did not install or create is the user's: the script
# never changes its passwords or settings. When the default login does not work on
# it, the script stops and prints the commands that give the project a role of its
# own, and the DATABASE_URL to export. Only a server it has just installed (or whose
# cluster it has just created) gets the postgres password and max_connections it needs.
#
# Idempotent; when both services already run it only checks them (fast).
# Never uses sudo. Exits 1 with instructions on stderr when it cannot fix things.
set -euo pipefail

PG_HOST=127.0.0.1
PG_PORT=5432
REDIS_HOST=127.0.0.1
REDIS_PORT=6379
REDIS_DIR=/var/lib/redis
REDIS_LOG_DIR=/var/log/redis
REDIS_LOG="${REDIS_LOG_DIR}/ci.log"
DEFAULT_DSN="postgres://postgres:postgres@${PG_HOST}:${PG_PORT}/market8949?sslmode=disable"

TMP_DIR="$(mktemp -d)"
trap 'rm -rf "$TMP_DIR"' EXIT

APT_UPDATED=0

# PG_OURS is 1 once this run has installed PostgreSQL or created its cluster, where no
# cluster was before: only then may the script set the postgres password or raise
# max_connections.
PG_OURS=0

log() { printf 'services: %s\n' "$*"; }

# die LINE...: print every line to stderr, prefixed, and exit 1.
die() {
	local first=1 line
	for line in "$@"; do
		if ((first)); then
			printf 'services: ERROR: %s\n' "$line" >&2
			first=0
		else
			printf 'services:   %s\n' "$line" >&2
		fi
	done
	exit 1
}

have() { command -v "$1" >/dev/null 2>&1; }

is_root() { [[ "$(id -u)" -eq 0 ]]; }

# with_timeout SECS CMD...: run CMD, bounded by SECS when coreutils timeout exists.
with_timeout() {
	local secs="$1"
	shift
	if have timeout; then
		timeout "$secs" "$@"
	else
		"$@"
	fi
}

# mask_url URL: replace the password of a URL (user:pass@, ?password=, and the
# bare userinfo of redis URLs, which redis clients read as a password) by ****.
mask_url() {
	printf '%s' "$1" | sed -E \
		-e 's#^([A-Za-z][A-Za-z0-9+.-]*://[^:/?@]*):[^@/?]*@#\1:****@#' \
		-e 's#^((rediss?|unix)://)[^:/?@]+@#\1****@#' \
		-e 's#([?&]password=)[^&]*#\1****#'
}

# url_decode STRING: decode %XX escapes (other backslashes are kept as they are).
url_decode() {
	local s="${1//\\/\\\\}"
	printf '%b' "${s//%/\\x}"
}

# Dump a captured log file (indented) to stderr, if it has anything.
show_log() {
	local file="$1"
	if [[ -s "$file" ]]; then
		printf 'services:   ---- %s ----\n' "$2" >&2
		tail -n 20 "$file" | sed 's/^/services:   | /' >&2
	fi
}

# apt_install PKG...: apt-get update (once) and install quietly. Returns non-zero
# on failure after printing the apt log.
apt_install() {
	local aptlog="${TMP_DIR}/apt.log"
	log "installing $* with apt-get (this takes a while)"
	if ((APT_UPDATED == 0)); then
		if ! apt-get update -qq >"$aptlog" 2>&1; then
			show_log "$aptlog" "apt-get update"
			return 1
		fi
		APT_UPDATED=1
	fi
	if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >"$aptlog" 2>&1; then
		show_log "$aptlog" "apt-get install $*"
		return 1
	fi
}

# can_apt_install: true when we may install packages ourselves.
can_apt_install() { is_root && have apt-get; }

# why_no_install: human reason why we could not install.
why_no_install() {
	if ! is_root; then
		printf 'this script installs packages only when run as root (running as uid %s)' "$(id -u)"
	else
		printf 'apt-get is not available on this machine'
	fi
}

# tcp_open HOST PORT: true when something accepts TCP connections there.
tcp_open() {
	# shellcheck disable=SC2016 # $1/$2 are expanded by the child bash
	with_timeout 3 bash -c 'exec 3<>"/dev/tcp/$1/$2"' _ "$1" "$2" 2>/dev/null
}

# ---------------------------------------------------------------------------
# PostgreSQL
# ---------------------------------------------------------------------------

# pg_ready_local: local server accepts connections (pg_isready, or a bare TCP
# check when pg_isready is not installed).
pg_ready_local() {
	if have pg_isready; then
		pg_isready -q -t 2 -h "$PG_HOST" -p "$PG_PORT" >/dev/null 2>&1
	else
		tcp_open "$PG_HOST" "$PG_PORT"
	fi
}

pg_server_installed() {
	compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null
}

pg_latest_version() {
	local bin
	for bin in /usr/lib/postgresql/*/bin/postgres; do
		[[ -x "$bin" ]] || continue
		bin="${bin#/usr/lib/postgresql/}"
		printf '%s\n' "${bin%%/*}"
	done | sort -V | tail -n 1
}

pg_tcp_login_ok() {
	PGPASSWORD=postgres PGCONNECT_TIMEOUT=5 psql -w -qAt \
		-h "$PG_HOST" -p "$PG_PORT" -U postgres -d postgres \
		-c 'select 1' >/dev/null 2>&1
}

# as_postgres CMD...: run CMD as the postgres OS user (we are root).
as_postgres() {
	local cmd
	printf -v cmd '%q ' "$@"
	if have runuser; then
		(cd / && runuser -u postgres -- "$@")
	else
		(cd / && su postgres -s /bin/sh -c "$cmd")
	fi
}

pg_help_lines=(
	"To fix, either:"
	"  - install PostgreSQL 15+ and start it on ${PG_HOST}:${PG_PORT}, with role postgres / password postgres"
	"    (Debian/Ubuntu, as root: apt-get install -y postgresql postgresql-client &&"
	"     pg_ctlcluster --skip-systemctl-redirect \$(ls /etc/postgresql) main start), or"
	"  - set DATABASE_URL=postgres://user:pass@host:5432/db to use an existing server."
	"Default DSN used by the code: ${DEFAULT_DSN}"
)

pg_start_local() {
	local startlog="${TMP_DIR}/pg_start.log" v found=0 started=0 rc version
	: >"$startlog"
	if ! have pg_ctlcluster; then
		die "PostgreSQL is not answering on ${PG_HOST}:${PG_PORT} and pg_ctlcluster (postgresql-common) is missing," \
			"so this script cannot start it." "${pg_help_lines[@]}"
	fi
	if [[ -d /etc/postgresql ]]; then
		for v in /etc/postgresql/*/; do
			v="${v%/}"
			v="${v##*/}"
			[[ -f "/etc/postgresql/${v}/main/postgresql.conf" ]] || continue
			log "starting PostgreSQL cluster ${v}/main"
			found=1
			# Exit status 2 means "already running": the wait below decides.
			rc=0
			pg_ctlcluster --skip-systemctl-redirect "$v" main start >>"$startlog" 2>&1 || rc=$?
			if ((rc == 0 || rc == 2)); then started=1; fi
		done
	fi
	if ((found && !started)); then
		show_log "$startlog" "pg_ctlcluster output"
		local hint=""
		is_root || hint=" (not running as root: start it as root or as the postgres user)"
		die "could not start PostgreSQL${hint}." "${pg_help_lines[@]}"
	fi
	if ((found == 0)); then
		version="$(pg_latest_version)"
		[[ -n "$version" ]] || die "no PostgreSQL server binaries found under /usr/lib/postgresql." "${pg_help_lines[@]}"
		log "creating PostgreSQL cluster ${version}/main"
		if ! pg_createcluster "$version" main --start >>"$startlog" 2>&1; then
			# Created but maybe not started (e.g. systemd redirect): start it directly.
			pg_ctlcluster --skip-systemctl-redirect "$version" main start >>"$startlog" 2>&1 || true
		fi
	fi

	local i
	for ((i = 0; i < 60; i++)); do
		pg_ready_local && return 0
		sleep 0.5
	done
	show_log "$startlog" "pg_ctlcluster / pg_createcluster output"
	if have pg_lsclusters; then
		pg_lsclusters >"${TMP_DIR}/lsclusters" 2>&1 || true
		show_log "${TMP_DIR}/lsclusters" "pg_lsclusters"
	fi
	local why=""
	is_root || why="(not running as root: start it as root or as the postgres user)"
	die "PostgreSQL did not become ready on ${PG_HOST}:${PG_PORT} within 30 s. ${why}" "${pg_help_lines[@]}"
}

# pg_superuser_psql: how the user runs psql as a superuser of the local server.
pg_superuser_psql() {
	if id postgres >/dev/null 2>&1; then
		if is_root; then
			printf 'runuser -u postgres -- psql'
		else
			printf 'sudo -u postgres psql'
		fi
	else
		printf 'psql -h %s -p %s -U <a superuser> -d postgres' "$PG_HOST" "$PG_PORT"
	fi
}

# pg_refuse_login: the local server is not ours and refuses postgres/postgres: say how
# to give the project a role of its own, and stop. Nothing is changed on the server.
pg_refuse_login() {
	local pass psql_cmd dsn
	pass="$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
	psql_cmd="$(pg_superuser_psql)"
	dsn="postgres://market8949:${pass}@${PG_HOST}:${PG_PORT}/market8949?sslmode=disable"
	die "PostgreSQL answers on ${PG_HOST}:${PG_PORT} but refuses the default login postgres/postgres." \
		"This run did not install that server, so the script changes none of its passwords or settings." \
		"To use it, give the project a role of its own (LOGIN, and CREATEDB: make dev creates" \
		"the database market8949, the tests create and drop one database each). As a superuser" \
		"of that server (on Debian/Ubuntu, the postgres OS user) run:" \
		"" \
		"    ${psql_cmd} -c \"CREATE ROLE market8949 LOGIN CREATEDB PASSWORD '${pass}'\"" \
		"" \
		"then, in the shell that runs make (or in your shell's profile):" \
		"" \
		"    export DATABASE_URL='${dsn}'" \
		"" \
		"(a role you made before: use its password in that URL). Or set DATABASE_URL to any" \
		"role and server you already use, with LOGIN and CREATEDB; this script then only checks it."
}

pg_ensure_password() {
	if ! have psql; then
		log "psql not found; cannot check the postgres/postgres login (install postgresql-client)"
		return 0
	fi
	pg_tcp_login_ok && return 0
	# A server that was here before this run is the user's: its passwords are not ours to set.
	((PG_OURS)) || pg_refuse_login
	if ! is_root || ! id postgres >/dev/null 2>&1; then
		die "PostgreSQL, just installed on ${PG_HOST}:${PG_PORT}, refuses the login postgres/postgres over TCP," \
			"and this script can set that password only as root with a local postgres OS user." \
			"To fix, either:" \
			"  - as the postgres OS user run: psql -c \"ALTER USER postgres PASSWORD 'postgres'\", or" \
			"  - set DATABASE_URL=postgres://user:pass@host:5432/db with credentials that work."
	fi
	log "setting the password of role postgres on the server this run installed"
	local pwlog="${TMP_DIR}/pg_password.log"
	as_postgres psql -qAt -c "ALTER USER postgres PASSWORD 'postgres'" >"$pwlog" 2>&1 || true
	if ! pg_tcp_login_ok; then
		show_log "$pwlog" "ALTER USER output"
		die "could not log in to ${PG_HOST}:${PG_PORT} as postgres/postgres over TCP, even after setting the password." \
			"Check pg_hba.conf allows 'host all all 127.0.0.1/32 scram-sha-256' (or md5/trust) and reload PostgreSQL," \
			"or set DATABASE_URL=postgres://user:pass@host:5432/db with credentials that work."
	fi
}

# pg_ensure_max_connections: make up runs sixty processes with a small pool each, more
# than PostgreSQL's default 100 connections allow. On the server this run installed,
# raise the limit (ALTER SYSTEM, then a restart); a server that was here before is left
# as it is, with a note saying how to raise it (make up says so too).
PG_MIN_CONNECTIONS=300
pg_ensure_max_connections() {
	have psql || return 0
	local cur
	cur="$(PGPASSWORD=postgres PGCONNECT_TIMEOUT=5 psql -w -qAt -h "$PG_HOST" -p "$PG_PORT" -U postgres -d postgres \
		-c 'show max_connections' 2>/dev/null)" || return 0
	[[ "$cur" =~ ^[0-9]+$ ]] || return 0
	((cur >= PG_MIN_CONNECTIONS)) && return 0
	if ((!PG_OURS)) || ! is_root || ! have pg_ctlcluster || [[ ! -d /etc/postgresql ]]; then
		log "postgres allows ${cur} connections; only make up needs ${PG_MIN_CONNECTIONS}. This script leaves a server it did not install as it is; to raise it, as a superuser: ALTER SYSTEM SET max_connections = ${PG_MIN_CONNECTIONS}; then restart PostgreSQL"
		return 0
	fi
	log "raising postgres max_connections from ${cur} to ${PG_MIN_CONNECTIONS} (make up runs a pool per function) and restarting it"
	PGPASSWORD=postgres psql -w -qAt -h "$PG_HOST" -p "$PG_PORT" -U postgres -d postgres \
		-c "ALTER SYSTEM SET max_connections = ${PG_MIN_CONNECTIONS}" >/dev/null 2>&1 || {
		log "could not raise max_connections; make up may refuse to start"
		return 0
	}
	local v conf
	for conf in /etc/postgresql/*/main/postgresql.conf; do
		v="${conf#/etc/postgresql/}"
		v="${v%%/*}"
		grep -Eq "^[[:space:]]*port[[:space:]]*=[[:space:]]*${PG_PORT}\b" "$conf" || continue
		pg_ctlcluster --skip-systemctl-redirect "$v" main restart >/dev/null 2>&1 || true
	done
	local i
	for ((i = 0; i < 60; i++)); do
		pg_ready_local && return 0
		sleep 0.5
	done
	die "PostgreSQL did not come back within 30 s after raising max_connections."
}

ensure_postgres() {
	if [[ -n "${DATABASE_URL:-}" ]]; then
		local shown
		shown="$(mask_url "$DATABASE_URL")"
		if ! have pg_isready; then
			log "postgres: using DATABASE_URL=${shown} (pg_isready not installed, not checked)"
			return 0
		fi
		local out
		if out="$(pg_isready -t 5 -d "$DATABASE_URL" 2>&1)"; then
			log "postgres ready at ${shown} (DATABASE_URL)"
			return 0
		fi
		die "PostgreSQL at DATABASE_URL=${shown} is not answering." \
			"pg_isready said: $(mask_url "$out")" \
			"Start that server, fix DATABASE_URL, or unset DATABASE_URL to use a local" \
			"PostgreSQL on ${PG_HOST}:${PG_PORT} (installed and started by this script when run as root)."
	fi

	if pg_ready_local; then
		pg_ensure_password
		pg_ensure_max_connections
		log "postgres ready at ${PG_HOST}:${PG_PORT} (local)"
		return 0
	fi

	# A cluster that exists before this run is the user's, even when this run starts it.
	local had_cluster=0
	compgen -G '/etc/postgresql/*/main/postgresql.conf' >/dev/null && had_cluster=1

	if ! pg_server_installed || ! have pg_ctlcluster || ! have pg_isready || ! have psql; then
		if ! can_apt_install; then
			die "PostgreSQL is not answering on ${PG_HOST}:${PG_PORT} and is not (fully) installed;" \
				"$(why_no_install)." "${pg_help_lines[@]}"
		fi
		if ! apt_install postgresql postgresql-client; then
			die "installing PostgreSQL with apt-get failed (see above)." "${pg_help_lines[@]}"
		fi
	fi

	# The package may have started a cluster itself.
	local how="ready"
	if ! pg_ready_local; then
		pg_start_local
		how="started; ready"
	fi
	# Ready now, with no cluster before: this run installed it or created its cluster.
	((had_cluster)) || PG_OURS=1
	pg_ensure_password
	pg_ensure_max_connections
	log "postgres ${how} at ${PG_HOST}:${PG_PORT} (local)"
}

# ---------------------------------------------------------------------------
# Redis
# ---------------------------------------------------------------------------

# _resp_ping HOST PORT [USER] [PASSWORD]: RESP PING over bash's /dev/tcp (used
# when redis-cli is missing). Prints the reply line. Runs in a child bash so the
# whole exchange can be bounded by timeout.
# shellcheck disable=SC2016 # literal "$4" is the RESP bulk-string length of "AUTH"/"PING"
_resp_ping() {
	local LC_ALL=C cr reply
	cr=$'\r'
	exec 3<>"/dev/tcp/$1/$2" || return 2
	if [[ -n "${4:-}" ]]; then
		if [[ -n "${3:-}" ]]; then
			printf '*3\r\n$4\r\nAUTH\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n' "${#3}" "$3" "${#4}" "$4" >&3
		else
			printf '*2\r\n$4\r\nAUTH\r\n$%d\r\n%s\r\n' "${#4}" "$4" >&3
		fi
		IFS= read -r -t 3 reply <&3 || return 3
		reply="${reply%"$cr"}"
		if [[ "$reply" != "+OK" ]]; then
			printf '%s\n' "$reply"
			return 4
		fi
	fi
	printf '*1\r\n$4\r\nPING\r\n' >&3
	IFS= read -r -t 3 reply <&3 || return 3
	printf '%s\n' "${reply%"$cr"}"
}

tcp_ping() {
	# shellcheck disable=SC2016 # "$@" is expanded by the child bash
	with_timeout 5 bash -c "$(declare -f _resp_ping)"'; _resp_ping "$@"' _ "$@" 2>/dev/null
}

# redis_ping_local: true when 127.0.0.1:6379 answers PONG.
redis_ping_local() {
	local out
	if have redis-cli; then
		out="$(with_timeout 3 redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" ping 2>/dev/null)" || return 1
	else
		out="$(tcp_ping "$REDIS_HOST" "$REDIS_PORT")" || return 1
	fi
	[[ "$out" == "PONG" || "$out" == "+PONG" ]]
}

redis_help_lines=(
	"To fix, either:"
	"  - install Redis 6+ and start it on ${REDIS_HOST}:${REDIS_PORT} without a password"
	"    (Debian/Ubuntu, as root: apt-get install -y redis-server && redis-server --daemonize yes"
	"     --bind 127.0.0.1 --port 6379 --save \"\" --appendonly no), or"
	"  - set REDIS_URL=redis://[:password@]host:6379/0 to use an existing server."
)

# redis_start_once BIND...: start redis-server with the given bind addresses.
redis_start_once() {
	redis-server --daemonize yes --bind "$@" --port "$REDIS_PORT" --save "" --appendonly no \
		--dir "$REDIS_DIR" --logfile "$REDIS_LOG" >>"${TMP_DIR}/redis_start.log" 2>&1
}

redis_start_local() {
	local startlog="${TMP_DIR}/redis_start.log"
	: >"$startlog"
	if ! mkdir -p "$REDIS_DIR" "$REDIS_LOG_DIR" 2>>"$startlog"; then
		show_log "$startlog" "mkdir"
		die "cannot create ${REDIS_DIR} / ${REDIS_LOG_DIR} to start Redis$(is_root || printf ' (not running as root)')." \
			"${redis_help_lines[@]}"
	fi
	local offset=0
	[[ -f "$REDIS_LOG" ]] && offset="$(wc -c <"$REDIS_LOG")"

	log "starting redis-server on ${REDIS_HOST}:${REDIS_PORT}"
	local ipv6=1 launched=1
	if ! redis_start_once 127.0.0.1 -::1; then
		launched=0
		if grep -q '::1' "$startlog"; then
			log "IPv6 bind failed, retrying with --bind 127.0.0.1 only"
			ipv6=0
			redis_start_once 127.0.0.1 && launched=1
		fi
	fi

	local i newlog
	for ((i = 0; launched && i < 30; i++)); do
		redis_ping_local && return 0
		if ((ipv6)) && [[ -f "$REDIS_LOG" ]]; then
			# redis-server daemonizes before binding, so a failed ::1 bind
			# only shows in its log file.
			newlog="$(tail -c "+$((offset + 1))" "$REDIS_LOG" 2>/dev/null || true)"
			if grep -Eq '(listening socket|Failed listening|[Ff]ailed to bind|bind).*::1' <<<"$newlog"; then
				log "IPv6 bind failed, retrying with --bind 127.0.0.1 only"
				ipv6=0
				redis_start_once 127.0.0.1 || true
			fi
		fi
		sleep 0.5
	done

	show_log "$startlog" "redis-server output"
	if [[ -f "$REDIS_LOG" ]]; then
		tail -c "+$((offset + 1))" "$REDIS_LOG" >"${TMP_DIR}/redis_log_tail" 2>/dev/null || true
		show_log "${TMP_DIR}/redis_log_tail" "$REDIS_LOG"
	fi
	if ((launched)); then
		die "Redis did not answer PONG on ${REDIS_HOST}:${REDIS_PORT} within 15 s." "${redis_help_lines[@]}"
	fi
	die "redis-server failed to start$(is_root || printf ' (not running as root)')." "${redis_help_lines[@]}"
}

# parse_redis_url URL: set RU_SCHEME RU_HOST RU_PORT RU_USER RU_PASS RU_DB
# (percent-decoded, like the Go client does). For unix:// RU_HOST is the path.
parse_redis_url() {
	local url="$1" rest userinfo hostport path query
	RU_SCHEME="${url%%://*}" RU_HOST="" RU_PORT="" RU_USER="" RU_PASS="" RU_DB=""
	rest="${url#*://}"
	[[ "$rest" != "$url" ]] || return 1
	if [[ "$rest" == *\?* ]]; then
		query="${rest#*\?}"
		rest="${rest%%\?*}"
	else
		query=""
	fi
	if [[ "$RU_SCHEME" == "unix" ]]; then
		if [[ "$rest" == *@* ]]; then
			userinfo="${rest%@*}"
			rest="${rest##*@}"
		else
			userinfo=""
		fi
		RU_HOST="$rest"
		if [[ "$query" =~ (^|&)db=([0-9]+) ]]; then RU_DB="${BASH_REMATCH[2]}"; fi
	else
		hostport="${rest%%/*}"
		path=""
		[[ "$rest" == */* ]] && path="${rest#*/}"
		RU_DB="${path%%/*}"
		if [[ "$hostport" == *@* ]]; then
			userinfo="${hostport%@*}"
			hostport="${hostport##*@}"
		else
			userinfo=""
		fi
		if [[ "$hostport" == \[* ]]; then
			RU_HOST="${hostport#\[}"
			RU_HOST="${RU_HOST%%\]*}"
			RU_PORT="${hostport##*\]}"
			RU_PORT="${RU_PORT#:}"
		else
			RU_HOST="${hostport%%:*}"
			[[ "$hostport" == *:* ]] && RU_PORT="${hostport##*:}"
		fi
		[[ -n "$RU_HOST" ]] || RU_HOST=localhost
		[[ -n "$RU_PORT" ]] || RU_PORT=6379
	fi
	if [[ -n "$userinfo" ]]; then
		if [[ "$userinfo" == *:* ]]; then
			RU_USER="$(url_decode "${userinfo%%:*}")"
			RU_PASS="$(url_decode "${userinfo#*:}")"
		else
			# a bare userinfo is the password, as redis-cli -u reads it.
			RU_PASS="$(url_decode "$userinfo")"
		fi
	fi
	if [[ "$query" =~ (^|&)password=([^&]*) ]]; then RU_PASS="$(url_decode "${BASH_REMATCH[2]}")"; fi
	return 0
}

# redis_url_ping URL: print the reply of PING (or a note); false if not checked.
redis_url_ping() {
	local -a args=()
	parse_redis_url "$1" || { printf 'not a URL'; return 0; }
	case "$RU_SCHEME" in
	redis | rediss | unix) ;;
	*)
		printf 'unsupported scheme %s' "$RU_SCHEME"
		return 0
		;;
	esac
	if have redis-cli; then
		if [[ "$RU_SCHEME" == "unix" ]]; then
			args+=(-s "$RU_HOST")
		else
			args+=(-h "$RU_HOST" -p "$RU_PORT")
		fi
		[[ "$RU_SCHEME" == "rediss" ]] && args+=(--tls)
		[[ -n "$RU_USER" ]] && args+=(--user "$RU_USER")
		if [[ -n "$RU_PASS" ]]; then
			REDISCLI_AUTH="$RU_PASS" with_timeout 5 redis-cli "${args[@]}" ping 2>&1 || true
		else
			with_timeout 5 redis-cli "${args[@]}" ping 2>&1 || true
		fi
		return 0
	fi
	[[ "$RU_SCHEME" == "redis" ]] || return 1
	tcp_ping "$RU_HOST" "$RU_PORT" "$RU_USER" "$RU_PASS" || true
}

ensure_redis() {
	if [[ -n "${REDIS_URL:-}" ]]; then
		local shown out
		shown="$(mask_url "$REDIS_URL")"
		if ! out="$(redis_url_ping "$REDIS_URL")"; then
			log "redis: using REDIS_URL=${shown} (redis-cli not installed and not a plain redis:// URL, not checked)"
			return 0
		fi
		if [[ "$out" == "PONG" || "$out" == "+PONG" ]]; then
			log "redis ready at ${shown} (REDIS_URL)"
			return 0
		fi
		die "Redis at REDIS_URL=${shown} did not answer PONG." \
			"reply: ${out:-<none>}" \
			"Start that server, fix REDIS_URL, or unset REDIS_URL to use a local" \
			"Redis on ${REDIS_HOST}:${REDIS_PORT} (installed and started by this script when run as root)."
	fi

	if redis_ping_local; then
		log "redis ready at ${REDIS_HOST}:${REDIS_PORT} (local)"
		return 0
	fi

	if tcp_open "$REDIS_HOST" "$REDIS_PORT"; then
		die "something listens on ${REDIS_HOST}:${REDIS_PORT} but does not answer PING with PONG" \
			"(a password-protected Redis, or another program)." \
			"Stop it, or set REDIS_URL=redis://[:password@]host:6379/0 to use it."
	fi

	if ! have redis-server; then
		if ! can_apt_install; then
			die "Redis is not answering on ${REDIS_HOST}:${REDIS_PORT} and redis-server is not installed;" \
				"$(why_no_install)." "${redis_help_lines[@]}"
		fi
		if ! apt_install redis-server; then
			die "installing redis-server with apt-get failed (see above)." "${redis_help_lines[@]}"
		fi
		# The package may have started a server itself.
		if redis_ping_local; then
			log "redis ready at ${REDIS_HOST}:${REDIS_PORT} (local)"
			return 0
		fi
	fi

	redis_start_local
	log "redis started; ready at ${REDIS_HOST}:${REDIS_PORT} (local)"
}

ensure_postgres
ensure_redis
