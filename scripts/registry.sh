#!/usr/bin/env bash
# A real container registry on 127.0.0.1 for the lab and its tests: Debian's `docker-registry`
# (the open-source distribution registry), with a configuration of its own and its storage in
# DIR. Docker allows plain HTTP to registries on 127.0.0.0/8, so no certificate is needed.
#
#   scripts/registry.sh start DIR [PORT]   start it (PORT: a free one by default); prints HOST:PORT
#   scripts/registry.sh stop DIR           stop the registry started with DIR (its pid only) and
#                                          remove DIR
#   scripts/registry.sh install            apt-get install docker-registry when it is missing
#   scripts/registry.sh engine-start NAME [PORT]
#                                          the same registry as a container NAME on the Docker
#                                          engine that DOCKER_HOST names, published on that
#                                          engine's 127.0.0.1:PORT (default 5000): a remote engine
#                                          cannot reach this machine's 127.0.0.1, but pushes
#                                          plain HTTP to its own; prints 127.0.0.1:PORT
#   scripts/registry.sh engine-stop NAME   remove that container
#
# DIR holds config.yml, storage/, pid, address and log. As root, `start` installs the package
# when it is missing. The container's image (pipe-lab/registry) is built on the engine from
# pipe-test/debian:bookworm and this machine's docker-registry binary; no image is pulled.
set -euo pipefail

log() { echo "registry: $*" >&2; }

install() {
    command -v docker-registry >/dev/null 2>&1 && return
    if [ "$(id -u)" -ne 0 ]; then
        log "docker-registry is not installed: apt-get install docker-registry (as root)"
        return 1
    fi
    log "installing docker-registry with apt-get"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends docker-registry >/dev/null
    # The package's own service (port 5000, with htpasswd auth) is not the lab's: keep it off.
    if [ -x /etc/init.d/docker-registry ]; then /etc/init.d/docker-registry stop >/dev/null 2>&1 || true; fi
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

start() {
    local dir="$1" port="${2:-}"
    install
    mkdir -p "$dir/storage"
    dir=$(cd "$dir" && pwd)
    if [ -f "$dir/pid" ] && kill -0 "$(cat "$dir/pid")" 2>/dev/null; then
        cat "$dir/address"
        return
    fi
    [ -n "$port" ] || port=$(free_port)
    local address="127.0.0.1:$port"
    cat >"$dir/config.yml" <<YAML
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $dir/storage
  delete:
    enabled: true
http:
  addr: $address
YAML
    docker-registry serve "$dir/config.yml" >"$dir/log" 2>&1 &
    echo $! >"$dir/pid"
    echo "$address" >"$dir/address"
    local _
    for _ in $(seq 1 100); do
        if curl -fsS -o /dev/null "http://$address/v2/" 2>/dev/null; then
            log "listening on $address (pid $(cat "$dir/pid"), storage $dir/storage)"
            echo "$address"
            return
        fi
        if ! kill -0 "$(cat "$dir/pid")" 2>/dev/null; then break; fi
        sleep 0.1
    done
    log "the registry did not answer on $address; its log:"
    cat "$dir/log" >&2 || true
    stop "$dir"
    return 1
}

stop() {
    local dir="$1" pid
    [ -d "$dir" ] || return 0
    if [ -f "$dir/pid" ]; then
        pid=$(cat "$dir/pid")
        if kill "$pid" 2>/dev/null; then
            local _
            for _ in $(seq 1 50); do
                kill -0 "$pid" 2>/dev/null || break
                sleep 0.1
            done
            kill -9 "$pid" 2>/dev/null || true
            log "stopped pid $pid"
        fi
    fi
    rm -rf "$dir"
}

engine_start() {
    local name="$1" port="${2:-5000}" address context
    address="127.0.0.1:$port"
    install
    if ! docker image inspect pipe-lab/registry >/dev/null 2>&1; then
        log "building pipe-lab/registry on the engine (pipe-test/debian:bookworm + docker-registry)"
        context=$(mktemp -d)
        cp "$(command -v docker-registry)" "$context/docker-registry"
        cat >"$context/config.yml" <<YAML
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: /var/lib/registry
  delete:
    enabled: true
http:
  addr: 0.0.0.0:5000
YAML
        cat >"$context/Dockerfile" <<'DOCKERFILE'
FROM pipe-test/debian:bookworm
COPY docker-registry /usr/local/bin/docker-registry
COPY config.yml /etc/docker-registry.yml
EXPOSE 5000
ENTRYPOINT ["/usr/local/bin/docker-registry", "serve", "/etc/docker-registry.yml"]
DOCKERFILE
        DOCKER_BUILDKIT=0 docker build -q -t pipe-lab/registry "$context" >/dev/null
        rm -rf "$context"
    fi
    docker rm -f "$name" >/dev/null 2>&1 || true
    docker run -d --name "$name" -p "$address:5000" --label dev.pipe.example=registry \
        pipe-lab/registry >/dev/null
    # Ready when its port takes a connection, tried inside the container: this machine cannot
    # reach the engine's 127.0.0.1.
    local _
    for _ in $(seq 1 100); do
        if docker exec "$name" bash -c 'exec 3<>/dev/tcp/127.0.0.1/5000' 2>/dev/null \
            || [ "$(docker inspect --format '{{.State.Running}}' "$name" 2>/dev/null)" != true ]; then
            break
        fi
        sleep 0.1
    done
    if [ "$(docker inspect --format '{{.State.Running}}' "$name" 2>/dev/null)" != true ]; then
        log "the registry container $name exited; its log:"
        docker logs "$name" >&2 || true
        docker rm -f "$name" >/dev/null 2>&1 || true
        return 1
    fi
    log "container $name on the engine, published on the engine's $address"
    echo "$address"
}

engine_stop() {
    if docker rm -f "$1" >/dev/null 2>&1; then log "removed container $1"; fi
}

case "${1:-}" in
    start) [ $# -ge 2 ] || { echo "usage: $0 start DIR [PORT]" >&2; exit 2; }; start "$2" "${3:-}" ;;
    stop) [ $# -eq 2 ] || { echo "usage: $0 stop DIR" >&2; exit 2; }; stop "$2" ;;
    install) install ;;
    engine-start) [ $# -ge 2 ] || { echo "usage: $0 engine-start NAME [PORT]" >&2; exit 2; }; engine_start "$2" "${3:-}" ;;
    engine-stop) [ $# -eq 2 ] || { echo "usage: $0 engine-stop NAME" >&2; exit 2; }; engine_stop "$2" ;;
    *) echo "usage: $0 start DIR [PORT] | stop DIR | install | engine-start NAME [PORT] | engine-stop NAME" >&2; exit 2 ;;
esac
