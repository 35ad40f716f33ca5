#!/usr/bin/env bash
# The continuous-delivery lab, end to end and offline, for real: the example service
# (examples/tasks-app) is built once as an image tagged with the commit, published to a registry
# on 127.0.0.1, deployed blue/green to staging with an HTTP health check, and stopped at the
# production gate; the lab approves it and resumes, ships a broken release that reverts itself
# while the service keeps answering, ships a second release without a human (deployment mode),
# rolls production back with one command, and prints what runs where.
#
# Needs Docker: as root this script installs docker.io and docker-registry when missing, starts
# dockerd, and builds the local images (scripts/test-images.sh). Everything it started (the
# registry, the deployed containers, a daemon) is stopped at the end; LAB_KEEP=1 keeps the
# registry's and the services' containers running to look around (stop them with
# `bash scripts/lab.sh down`). Usage: bash scripts/lab.sh [down]
#
# On a Docker engine of another machine (DOCKER_HOST=tcp://HOST:PORT or ssh://USER@HOST, or the
# current Docker context): no local daemon is started; the engine must hold the images
# pipe-test/python:bookworm and pipe-test/debian:bookworm. The registry then runs as a
# container on that engine (its own 127.0.0.1, which it pushes to over plain HTTP), and the
# environments answer, and are health-checked, on the engine's address.
set -euo pipefail
cd "$(dirname "$0")/.."
export PIPE_STATE_DIR="${PIPE_STATE_DIR:-.pipe}"
lab_dir="$PIPE_STATE_DIR/lab"
export STACK_PREFIX="${STACK_PREFIX:-lab-}"
staging_port="${STAGING_PORT:-8081}"
production_port="${PRODUCTION_PORT:-8082}"
start=$SECONDS
say() { printf '\n\033[1m==> %s\033[0m (%ss)\n' "$*" "$((SECONDS - start))"; }
# Where the engine publishes the environments: 127.0.0.1, or a remote engine's address.
engine=$(bash examples/tasks-app/deploy.sh address)
remote=false
if [ "$engine" != 127.0.0.1 ]; then remote=true; fi
registry_container="${STACK_PREFIX}registry"
health() { curl -s --max-time 2 "http://$engine:$1/health" || echo "(nothing answers on $engine:$1)"; }

down() {
    for env in staging production; do bash examples/tasks-app/deploy.sh down "$env" || true; done
    if [ "$remote" = true ]; then
        scripts/registry.sh engine-stop "$registry_container" || true
    else
        scripts/registry.sh stop "$lab_dir/registry" || true
    fi
}
if [ "${1:-}" = down ]; then down; exit 0; fi

say "building pipe (cargo build; the first build compiles every dependency: a few minutes)"
cargo build --locked
pipe=target/debug/pipe

# A pid file of this script's own: at the end it stops only a daemon it started itself.
export PIPE_DOCKERD_PIDFILE="${TMPDIR:-/tmp}/pipe-lab-dockerd-$$.pid"
cleanup() {
    if [ "${LAB_KEEP:-0}" = 1 ]; then
        echo "LAB_KEEP=1: staging http://$engine:$staging_port, production http://$engine:$production_port and the registry keep running; stop them with: bash scripts/lab.sh down"
    else
        say "cleaning up: the deployed containers and the registry this lab started"
        down
    fi
    if [ "$(id -u)" = 0 ] && [ "$remote" = false ]; then scripts/docker-daemon.sh stop >/dev/null 2>&1 || true; fi
}
if [ "$remote" = true ]; then
    say "the Docker engine on $engine (${DOCKER_HOST:-the current Docker context}) and its images"
    if ! server=$(docker version --format '{{.Server.Version}}' 2>/dev/null); then
        echo "the Docker engine on $engine does not answer (docker version failed): check DOCKER_HOST or the Docker context" >&2
        exit 2
    fi
    echo "engine: Docker $server"
    for image in pipe-test/python:bookworm pipe-test/debian:bookworm; do
        if ! docker image inspect "$image" >/dev/null 2>&1; then
            echo "the engine on $engine has no image $image: build it here (scripts/test-images.sh, as root) and load it there:" >&2
            echo "  DOCKER_HOST=unix:///var/run/docker.sock docker save $image | docker load" >&2
            exit 2
        fi
    done
    trap cleanup EXIT
elif [ "$(id -u)" = 0 ]; then
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

if [ "$remote" = true ]; then
    say "a registry on the engine: container $registry_container (Debian's docker-registry), on the engine's 127.0.0.1"
    registry=$(scripts/registry.sh engine-start "$registry_container" "${LAB_REGISTRY_PORT:-5000}")
else
    say "a registry on 127.0.0.1 (Debian's docker-registry, storage in $lab_dir/registry)"
    registry=$(scripts/registry.sh start "$lab_dir/registry")
fi
echo "registry: $registry"

say "pipe validate"
"$pipe" validate

# The lab reproduces pushes to main (the build and deploy jobs run on main only).
ref=refs/heads/main
sha=$(git rev-parse HEAD 2>/dev/null || echo 0000000000000000000000000000000000000000)
run=("$pipe" run pipelines/cd-starter.yml --ref "$ref" --var "REGISTRY=$registry"
     --var BASE_IMAGE=pipe-test/python:bookworm --var "STACK_PREFIX=$STACK_PREFIX"
     --var "STAGING_PORT=$staging_port" --var "PRODUCTION_PORT=$production_port")
if [ "$remote" = true ]; then run+=(--var "PUBLISH_ADDRESS=$engine"); fi

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
( while :; do curl -s -o /dev/null -w '%{http_code}\n' --max-time 1 "http://$engine:$staging_port/health" >>"$polls" || true; sleep 0.2; done ) &
poller=$!
status=0
"${run[@]}" --sha "$broken_sha" --event workflow_dispatch --input break=true --mode deployment </dev/null || status=$?
kill "$poller" 2>/dev/null || true
wait "$poller" 2>/dev/null || true
echo "the broken run exited $status (a job failed, as it should)"
echo "staging answered during that deploy: $(sort "$polls" | uniq -c | awk '{printf "%s x HTTP %s  ", $1, $2}')"
echo "staging    /health: $(health "$staging_port")"

second_sha=$(printf 'second %s' "$sha" | sha1sum | cut -c1-40)
say "a second good release (${second_sha:0:12}) in --mode deployment: every green commit ships, no human"
"${run[@]}" --sha "$second_sha" --mode deployment </dev/null
echo "production /health: $(health "$production_port")"

say "pipe rollback production: ${sha:0:12} comes back (its deploy job runs again with the recorded outputs, nothing is rebuilt; the gate is pre-approved here)"
"$pipe" rollback production --approve production --as lab </dev/null
echo "production /health: $(health "$production_port")"

say "pipe history: what runs where now, approved by whom, rolled forward or back"
"$pipe" history
say "pipe history --artifact ${sha:0:12}: every environment where it ran, and its state there"
"$pipe" history --artifact "${sha:0:12}"
say "done in $((SECONDS - start)) s"
