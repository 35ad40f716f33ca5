#!/usr/bin/env bash
# The continuous-delivery lab, end to end and offline: validate the pipeline, show what the
# delivery/deployment switch changes, run lint → test → scan → build → publish → staging, stop at
# the production gate, approve it, resume, and print the deployment ledger.
#
# Jobs run in Docker when a daemon can be had (as root this script installs and starts one, and
# builds the local images), else on the host. Usage: bash scripts/lab.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export PIPE_STATE_DIR="${PIPE_STATE_DIR:-.pipe}"
say() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }

say "building pipe"
cargo build --release --locked --quiet
pipe=target/release/pipe

executor=host
platform=()
# A pid file of this script's own: at the end it stops only a daemon it started itself.
export PIPE_DOCKERD_PIDFILE="${TMPDIR:-/tmp}/pipe-lab-dockerd-$$.pid"
if [ "$(id -u)" = 0 ] && scripts/docker-daemon.sh ensure >/dev/null 2>&1 && scripts/test-images.sh >/dev/null 2>&1; then
  executor=docker
  trap 'scripts/docker-daemon.sh stop >/dev/null 2>&1 || true' EXIT
elif docker image inspect pipe-test/debian:bookworm >/dev/null 2>&1; then
  executor=docker
else
  echo "no Docker daemon with the local images: the jobs run on this machine's shell instead"
fi

say "pipe validate"
"$pipe" validate

# The lab reproduces a push to main (the build and deploy jobs run on main only).
ref=refs/heads/main

say "pipe run --dry-run --mode delivery (a human presses the production button)"
"$pipe" run pipelines/cd-starter.yml --dry-run --mode delivery --ref "$ref"
say "pipe run --dry-run --mode deployment (every green commit ships)"
"$pipe" run pipelines/cd-starter.yml --dry-run --mode deployment --ref "$ref"

say "pipe run pipelines/cd-starter.yml --executor $executor"
status=0
"$pipe" run pipelines/cd-starter.yml --executor "$executor" --ref "$ref" "${platform[@]}" </dev/null || status=$?
if [ "$status" = 3 ]; then
  say "the run waits at the production gate: approve it, then resume"
  "$pipe" approve last --env production --as lab --comment "approved in the lab"
  "$pipe" resume last
elif [ "$status" != 0 ]; then
  echo "the run failed (exit $status): pipe logs last" >&2
  exit "$status"
fi

say "pipe history: what runs where, approved by whom"
"$pipe" history
