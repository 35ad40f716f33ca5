#!/usr/bin/env bash
# Deploy one release of tasks-app to one environment, blue/green, through the Docker daemon this
# machine reaches (the socket, or DOCKER_HOST). Plain bash + docker + curl: a GitHub runner (a
# self-hosted one with Docker) runs it as pipe does.
#
#   deploy.sh up ENV IMAGE VERSION   pull IMAGE, start it next to the release that serves now,
#                                    poll its /health over HTTP, then cut over, or stop it and keep
#                                    (or bring back) the previous known-good release
#   deploy.sh status ENV             what the stable endpoint serves now
#   deploy.sh down ENV               remove the environment: its containers and network
#   deploy.sh address                where the engine publishes ports, as this machine reaches it
#
# Runtime configuration comes from the environment, never from the image:
#   PORT            the environment's stable endpoint, http://ADDRESS:PORT (default 8080)
#   PUBLISH_ADDRESS where the engine publishes the ports: 127.0.0.1 (default) when the Docker
#                   engine runs on this machine; the engine's address (from DOCKER_HOST or the
#                   current Docker context: tcp://HOST:PORT, ssh://[user@]HOST) when it runs on
#                   another one, so the health checks reach it from here
#   STACK_PREFIX    prefix of the container and network names (several labs on one daemon)
#   HEALTH_TIMEOUT  seconds a new release has to answer /health with its version (default 30)
#   BREAK           handed to the release (1: a release that starts but is broken)
#   API_TOKEN       the environment's secret (pipe.toml secrets_file), handed to the release as an
#                   environment variable: never on a command line, never in the image
# With GITHUB_OUTPUT set, `up` writes image, version, digest and previous there.
set -euo pipefail

usage() { echo "usage: deploy.sh up ENV IMAGE VERSION | status ENV | down ENV | address" >&2; exit 2; }
[ $# -ge 2 ] || [ "${1:-}" = address ] || usage
command="$1"; env_name="${2:-}"
port="${PORT:-8080}"
stack="${STACK_PREFIX:-}tasks-$env_name"
proxy="$stack-proxy"
say() { echo "[$env_name] $*"; }

# The engine's machine as this one reaches it: 127.0.0.1 for a local engine.
engine_address() {
    local host
    host=$(docker context inspect --format '{{.Endpoints.docker.Host}}' 2>/dev/null || echo "${DOCKER_HOST:-}")
    case "$host" in tcp://* | ssh://* | http://* | https://*) ;; *) echo 127.0.0.1; return ;; esac
    host="${host#*://}"; host="${host#*@}"; host="${host%%/*}"; host="${host%:*}"
    case "$host" in "" | localhost | 127.*) echo 127.0.0.1; return ;; esac
    # A name is published on its address (docker -p takes an IP).
    getent ahostsv4 "$host" 2>/dev/null | awk '{print $1; exit}' | grep . || echo "$host"
}
published="${PUBLISH_ADDRESS:-$(engine_address)}"

running() { [ "$(docker inspect --format '{{.State.Running}}' "$1" 2>/dev/null)" = true ]; }
label() { docker inspect --format "{{index .Config.Labels \"$2\"}}" "$1" 2>/dev/null || true; }
output() { if [ -n "${GITHUB_OUTPUT:-}" ]; then echo "$1=$2" >>"$GITHUB_OUTPUT"; fi; }

# The release the stable endpoint forwards to now (a container name), or nothing.
current_upstream() {
    if running "$proxy"; then docker exec "$proxy" python3 /app/proxy.py --get; fi
}

# Start IMAGE as container NAME with the environment's runtime configuration.
start_release() {
    local name="$1" image="$2" version="$3"
    docker rm -f "$name" >/dev/null 2>&1 || true
    local secret=()
    if [ -n "${API_TOKEN:-}" ]; then secret=(-e API_TOKEN); fi
    VERSION="$version" APP_ENV="$env_name" BREAK="${BREAK:-0}" docker run -d --name "$name" \
        --network "$stack" -p "$published::8000" \
        -e VERSION -e APP_ENV -e BREAK "${secret[@]}" \
        --label dev.pipe.example=tasks-app --label "tasks-app.stack=$stack" \
        --label "tasks-app.version=$version" --label "tasks-app.image=$image" \
        "$image" >/dev/null
}

# Poll NAME's /health over HTTP until it answers 200 with VERSION, or the deadline passes.
wait_healthy() {
    local name="$1" version="$2" deadline=$((SECONDS + ${HEALTH_TIMEOUT:-30})) address code="" last=""
    address=$(docker port "$name" 8000/tcp | head -n 1)
    say "health check: polling http://$address/health (deadline ${HEALTH_TIMEOUT:-30} s)"
    while [ "$SECONDS" -lt "$deadline" ]; do
        if ! running "$name"; then say "health check: $name exited"; return 1; fi
        code=$(curl -s -o /tmp/health.$$ -w '%{http_code}' --max-time 2 "http://$address/health" || true)
        if [ "$code" = 200 ] && grep -q "\"version\": \"$version\"" /tmp/health.$$; then
            say "health check: 200 $(cat /tmp/health.$$)"
            rm -f /tmp/health.$$
            return 0
        fi
        if [ "$code" != "$last" ] && [ "$code" != 000 ]; then say "health check: $code $(cat /tmp/health.$$ 2>/dev/null)"; fi
        last="$code"
        sleep 0.5
    done
    rm -f /tmp/health.$$
    say "health check: no healthy answer within ${HEALTH_TIMEOUT:-30} s (last status ${code:-none})"
    return 1
}

# The stable endpoint: a proxy container of its own, published on ADDRESS:PORT.
ensure_proxy() {
    local image="$1"
    docker network inspect "$stack" >/dev/null 2>&1 \
        || docker network create --label dev.pipe.example=tasks-app --label "tasks-app.stack=$stack" "$stack" >/dev/null
    if running "$proxy"; then return; fi
    docker rm -f "$proxy" >/dev/null 2>&1 || true
    say "starting the stable endpoint http://$published:$port (a proxy that forwards to the current release)"
    docker run -d --name "$proxy" --network "$stack" -p "$published:$port:8000" \
        --label dev.pipe.example=tasks-app --label "tasks-app.stack=$stack" \
        "$image" python3 /app/proxy.py >/dev/null
    local _
    for _ in $(seq 1 50); do
        if [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "http://$published:$port/health" || true)" != 000 ]; then return; fi
        sleep 0.2
    done
    say "the proxy does not answer on $published:$port"
    docker logs --tail 20 "$proxy" >&2 || true
    return 1
}

cut_over() {
    local name="$1"
    docker exec "$proxy" python3 /app/proxy.py --set "$name"
}

up() {
    [ $# -eq 2 ] || usage
    local image="$1" version="$2" digest old old_version="" slot new
    output image "$image"
    output version "$version"

    say "1/5 pull $image"
    local host=""
    case "$image" in */*) host="${image%%/*}" ;; esac
    case "$host" in
        *.*|*:*|localhost)
            docker pull -q "$image" >/dev/null
            digest=$(docker image inspect --format '{{range .RepoDigests}}{{println .}}{{end}}' "$image" | grep -F "${image%:*}@" | head -n 1)
            say "pulled $digest"
            ;;
        *)
            docker image inspect "$image" >/dev/null 2>&1 || { say "no image $image here (and no registry in its name)"; exit 1; }
            digest=$(docker image inspect --format '{{.Id}}' "$image")
            say "no registry in the image name: using the local image $image ($digest)"
            ;;
    esac
    output digest "$digest"

    say "2/5 runtime configuration: VERSION=$version APP_ENV=$env_name BREAK=${BREAK:-0} API_TOKEN=$([ -n "${API_TOKEN:-}" ] && echo '(set, from the secrets)' || echo '(not set)')"
    ensure_proxy "$image"
    old=$(current_upstream)
    if [ -n "$old" ] && running "$old"; then
        old_version=$(label "$old" tasks-app.version)
    fi
    output previous "${old_version:-none}"
    case "$old" in *-blue) slot=green ;; *) slot=blue ;; esac
    new="$stack-$slot"

    if [ -n "$old_version" ]; then
        say "3/5 start $version as $new next to $old ($old_version), which keeps serving"
    else
        say "3/5 start $version as $new (first deploy: nothing serves yet)"
    fi
    start_release "$new" "$image" "$version"

    say "4/5 health check of $version"
    if wait_healthy "$new" "$version"; then
        say "5/5 cut over: http://$published:$port now serves $version${old_version:+ (was $old_version)}"
        cut_over "$new"
        if [ -n "$old" ] && [ "$old" != "$new" ]; then
            sleep 1   # requests already forwarded to the old release finish first
            docker rm -f "$old" >/dev/null 2>&1 || true
        fi
        say "deployed $version"
        return 0
    fi

    say "5/5 $version is not healthy: its last log lines:"
    docker logs --tail 10 "$new" 2>&1 | sed "s/^/[$env_name]   /" || true
    docker rm -f "$new" >/dev/null 2>&1 || true
    if [ -n "$old_version" ]; then
        say "stopped $version; kept the previous known-good release $old_version, which served throughout"
    elif [ -n "$(docker inspect --format '{{.Config.Image}}' "$old" 2>/dev/null)" ]; then
        local good_image good_version
        good_image=$(label "$old" tasks-app.image)
        good_version=$(label "$old" tasks-app.version)
        say "stopped $version; the previous release $good_version is not running: bringing it back"
        start_release "$old" "$good_image" "$good_version"
        wait_healthy "$old" "$good_version" && say "brought back $good_version"
    else
        say "stopped $version; no earlier release to keep: nothing serves on http://$published:$port"
    fi
    return 1
}

status() {
    local code
    code=$(curl -s -o /tmp/status.$$ -w '%{http_code}' --max-time 2 "http://$published:$port/health" || true)
    say "http://$published:$port/health: $code $(cat /tmp/status.$$ 2>/dev/null)"
    rm -f /tmp/status.$$
    [ "$code" = 200 ]
}

down() {
    local ids
    ids=$(docker ps -aq --filter "label=tasks-app.stack=$stack")
    if [ -n "$ids" ]; then
        # shellcheck disable=SC2086
        docker rm -f $ids >/dev/null
    fi
    docker network rm "$stack" >/dev/null 2>&1 || true
    say "removed $stack"
}

case "$command" in
    up) shift 2; up "$@" ;;
    status) status ;;
    down) down ;;
    address) echo "$published" ;;
    *) usage ;;
esac
