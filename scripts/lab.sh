#!/usr/bin/env bash
# The continuous-delivery lab, end to end and offline, for real: the example service
# (examples/tasks-app) is built once as an image tagged with the commit, published to a registry
# on 127.0.0.1, deployed blue/green to staging with an HTTP health check, and stopped at the
# production gate; the lab approves it and resumes, ships a broken release that reverts itself
# while the service keeps answering, and prints what runs where.
#
# Needs Docker: as root this script installs docker.io and docker-registry when missing, starts
# dockerd, and builds the local images (scripts/test-images.sh). Everything it started (the
# registry, the deployed containers, a daemon) is stopped at the end; LAB_KEEP=1 keeps the
# registry's and the services' containers running to look around (stop them with
# `bash scripts/lab.sh down`). Usage: bash scripts/lab.sh [down]
set -euo pipefail
cd "$(dirname "$0")/.."
export PIPE_STATE_DIR="${PIPE_STATE_DIR:-.pipe}"
lab_dir="$PIPE_STATE_DIR/lab"
export STACK_PREFIX="${STACK_PREFIX:-lab-}"
staging_port="${STAGING_PORT:-8081}"
production_port="${PRODUCTION_PORT:-8082}"
start=$SECONDS
say() { printf '\n\033[1m==> %s\033[0m (%ss)\n' "$*" "$((SECONDS - start))"; }
health() { curl -s --max-time 2 "http://127.0.0.1:$1/health" || echo "(nothing answers on 127.0.0.1:$1)"; }

down() {
    for env in staging production; do bash examples/tasks-app/deploy.sh down "$env" || true; done
    scripts/registry.sh stop "$lab_dir/registry" || true
}
if [ "${1:-}" = down ]; then down; exit 0; fi

say "building pipe (cargo build; the first build compiles every dependency: a few minutes)"
cargo build --locked
pipe=target/debug/pipe

# A pid file of this script's own: at the end it stops only a daemon it started itself.
export PIPE_DOCKERD_PIDFILE="${TMPDIR:-/tmp}/pipe-lab-dockerd-$$.pid"
cleanup() {
    if [ "${LAB_KEEP:-0}" = 1 ]; then
        echo "LAB_KEEP=1: staging http://127.0.0.1:$staging_port, production http://127.0.0.1:$production_port and the registry keep running; stop them with: bash scripts/lab.sh down"
    else
        say "cleaning up: the deployed containers and the registry this lab started"
        down
    fi
    if [ "$(id -u)" = 0 ]; then scripts/docker-daemon.sh stop >/dev/null 2>&1 || true; fi
}
if [ "$(id -u)" = 0 ]; then
    say "Docker daemon and the local images (the first time: docker.io and a debootstrap, a few minutes)"
    scripts/docker-daemon.sh ensure
    trap cleanup EXIT
    scripts/test-images.sh
elif docker image inspect pipe-test/python:bookworm >/dev/null 2>&1; then
    trap cleanup EXIT
else
    echo "the lab deploys containers: it needs a Docker daemon and the local images (run it as root once, or scripts/test-images.sh)" >&2
    exit 2
fi

say "a registry on 127.0.0.1 (Debian's docker-registry, storage in $lab_dir/registry)"
registry=$(scripts/registry.sh start "$lab_dir/registry")
echo "registry: $registry"

say "pipe validate"
"$pipe" validate

# The lab reproduces pushes to main (the build and deploy jobs run on main only).
ref=refs/heads/main
sha=$(git rev-parse HEAD 2>/dev/null || echo 0000000000000000000000000000000000000000)
run=("$pipe" run pipelines/cd-starter.yml --ref "$ref" --var "REGISTRY=$registry"
     --var BASE_IMAGE=pipe-test/python:bookworm --var "STACK_PREFIX=$STACK_PREFIX"
     --var "STAGING_PORT=$staging_port" --var "PRODUCTION_PORT=$production_port")

say "pipe run --dry-run --mode delivery (a human presses the production button)"
"${run[@]}" --dry-run --mode delivery
say "pipe run --dry-run --mode deployment (every green commit ships)"
"${run[@]}" --dry-run --mode deployment

say "release ${sha:0:12}: lint, test, scan, build the image once, publish it, deploy to staging"
status=0
"${run[@]}" --sha "$sha" </dev/null || status=$?
echo "staging    /health: $(health "$staging_port")"
echo "production /health: $(health "$production_port")"
if [ "$status" = 3 ]; then
    say "the run waits at the production gate (continuous delivery): approve it, then resume"
    "$pipe" approve last --env production --as lab --comment "approved in the lab"
    "$pipe" resume last
elif [ "$status" != 0 ]; then
    echo "the run failed (exit $status): $pipe logs last" >&2
    exit "$status"
fi
echo "production /health: $(health "$production_port")"

# A second commit id for the broken release (the working tree is the same; its image gets a
# tag of its own).
broken_sha=$(printf 'broken %s' "$sha" | sha1sum | cut -c1-40)
say "a broken release (${broken_sha:0:12}, BREAK=1 via the workflow_dispatch input): its health check fails, staging keeps serving ${sha:0:12}"
polls="$lab_dir/polls"
mkdir -p "$lab_dir"
: >"$polls"
( while :; do curl -s -o /dev/null -w '%{http_code}\n' --max-time 1 "http://127.0.0.1:$staging_port/health" >>"$polls" || true; sleep 0.2; done ) &
poller=$!
status=0
"${run[@]}" --sha "$broken_sha" --event workflow_dispatch --input break=true --mode deployment </dev/null || status=$?
kill "$poller" 2>/dev/null || true
wait "$poller" 2>/dev/null || true
echo "the broken run exited $status (a job failed, as it should)"
echo "staging answered during that deploy: $(sort "$polls" | uniq -c | awk '{printf "%s x HTTP %s  ", $1, $2}')"
echo "staging    /health: $(health "$staging_port")"

say "pipe history: what runs where now, approved by whom"
"$pipe" history
say "done in $((SECONDS - start)) s"
