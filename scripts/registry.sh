#!/usr/bin/env bash
# A real container registry on 127.0.0.1 for the lab and its tests: Debian's `docker-registry`
# (the open-source distribution registry), with a configuration of its own and its storage in
# DIR. Docker allows plain HTTP to registries on 127.0.0.0/8, so no certificate is needed.
#
#   scripts/registry.sh start DIR [PORT]   start it (PORT: a free one by default); prints HOST:PORT
#   scripts/registry.sh stop DIR           stop the registry started with DIR (its pid only) and
#                                          remove DIR
#   scripts/registry.sh install            apt-get install docker-registry when it is missing
#
# DIR holds config.yml, storage/, pid, address and log. As root, `start` installs the package
# when it is missing.
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

case "${1:-}" in
    start) [ $# -ge 2 ] || { echo "usage: $0 start DIR [PORT]" >&2; exit 2; }; start "$2" "${3:-}" ;;
    stop) [ $# -eq 2 ] || { echo "usage: $0 stop DIR" >&2; exit 2; }; stop "$2" ;;
    install) install ;;
    *) echo "usage: $0 start DIR [PORT] | stop DIR | install" >&2; exit 2 ;;
esac
