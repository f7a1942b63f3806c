#!/usr/bin/env bash
# Make sure the Google Pub/Sub emulator can run: the deployed-shape test (and make up with
# BACKBONE=pubsub) start it themselves. It needs the Google Cloud CLI's pubsub-emulator
# component and a Java runtime; with root and apt, the missing ones are installed (the
# component from Google's apt repository, where it is configured). Exits 1 with what to do
# when it cannot.
set -euo pipefail

log() { printf 'emulator: %s\n' "$*"; }
have() { command -v "$1" >/dev/null 2>&1; }

script() {
	local gcloud
	gcloud="$(command -v gcloud 2>/dev/null)" || return 1
	gcloud="$(readlink -f "$gcloud")"
	local s
	s="$(dirname "$gcloud")/../platform/pubsub-emulator/bin/cloud-pubsub-emulator"
	[[ -x "$s" ]] && printf '%s\n' "$s"
}

apt_updated=0
apt_install() {
	[[ "$(id -u)" -eq 0 ]] && have apt-get || return 1
	if ((apt_updated == 0)); then
		apt-get update -qq >/dev/null 2>&1 || true
		apt_updated=1
	fi
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null 2>&1
}

if ! have java; then
	log "installing a Java runtime for the emulator"
	apt_install default-jre-headless || {
		echo "emulator: ERROR: no java; install a Java 11+ runtime (apt-get install default-jre-headless)" >&2
		exit 1
	}
fi
if ! script >/dev/null; then
	log "installing the Pub/Sub emulator"
	apt_install google-cloud-cli-pubsub-emulator || true
	if ! script >/dev/null && have gcloud; then
		gcloud components install pubsub-emulator --quiet >/dev/null 2>&1 || true
	fi
fi
if ! s="$(script)"; then
	echo "emulator: ERROR: the Google Pub/Sub emulator is not installed, and installing it failed." >&2
	echo "emulator:   Install the Google Cloud CLI with its emulator (Debian: add Google's apt repository, then" >&2
	echo "emulator:   apt-get install google-cloud-cli google-cloud-cli-pubsub-emulator), or set PUBSUB_EMULATOR_BIN." >&2
	exit 1
fi
log "pubsub emulator at ${s}"
