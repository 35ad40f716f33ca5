#!/usr/bin/env bash
# Make sure Podman's Docker-compatible API answers, or stop the service this script started.
#
#   scripts/podman-service.sh ensure       install podman (Debian's package) when it is missing;
#                                          start `podman system service --time=0` on the socket in
#                                          the background when nothing answers there; wait until
#                                          it answers (30 s at most); print the DOCKER_HOST value
#   scripts/podman-service.sh load-images  copy the test images of scripts/test-images.sh from
#                                          Docker into Podman (`docker save | podman load`: no
#                                          registry is needed); an image Podman has is kept
#   scripts/podman-service.sh stop         stop only the service that `ensure` started (pid file)
#
# The socket is Podman's own: /run/podman/podman.sock as root, $XDG_RUNTIME_DIR/podman/podman.sock
# for a user (rootless). Environment: PIPE_PODMAN_SOCKET (another path),
# PIPE_PODMAN_PIDFILE (default /tmp/pipe-podman-$UID.pid), PIPE_PODMAN_LOG (default
# /tmp/pipe-podman-$UID.log).
#
# Without CAP_SYS_RESOURCE (some containers and VMs), Podman's default limits for a rootful
# container (1048576 open files, 4194304 processes) cannot be set and every container fails with
# "error setting rlimit ... operation not permitted"; the service then gets a containers.conf of
# its own (CONTAINERS_CONF) whose default_ulimits stay within this process's hard limits.
#
# Docker allows plain HTTP to a registry on 127.0.0.0/8 (the lab's registry on 127.0.0.1);
# Podman does not: the service gets a registries.conf (CONTAINERS_REGISTRIES_CONF) that adds
# 127.0.0.1 and localhost as insecure registries to the system's own settings.
set -euo pipefail

uid=$(id -u)
if [ "$uid" -eq 0 ]; then
    SOCKET="${PIPE_PODMAN_SOCKET:-/run/podman/podman.sock}"
else
    SOCKET="${PIPE_PODMAN_SOCKET:-${XDG_RUNTIME_DIR:-/run/user/$uid}/podman/podman.sock}"
fi
PIDFILE="${PIPE_PODMAN_PIDFILE:-/tmp/pipe-podman-$uid.pid}"
LOGFILE="${PIPE_PODMAN_LOG:-/tmp/pipe-podman-$uid.log}"
IMAGES=(pipe-test/busybox:latest pipe-test/debian:bookworm pipe-test/python:bookworm)

log() { echo "podman-service: $*" >&2; }
# shellcheck source-path=SCRIPTDIR source=lib/daemon.sh
. "$(dirname "$0")/lib/daemon.sh"

answers() {
    curl -fsS --max-time 2 --unix-socket "$SOCKET" http://podman/_ping >/dev/null 2>&1
}

# A containers.conf whose default limits this machine allows, when it does not allow Podman's.
limits_conf() {
    local nofile nproc conf
    if bash -c 'ulimit -Hn 1048576' 2>/dev/null; then
        return 0
    fi
    nofile=$(ulimit -Hn)
    nproc=$(ulimit -Hu)
    # Podman lowers its own process limit to 32768; a container may not get more than its parent.
    if [ "$nproc" = unlimited ] || [ "$nproc" -gt 32768 ]; then nproc=32768; fi
    if [ "$nofile" = unlimited ] || [ "$nofile" -gt 1048576 ]; then nofile=1048576; fi
    conf="$(dirname "$PIDFILE")/pipe-podman-$uid-containers.conf"
    printf '[containers]\ndefault_ulimits = ["nofile=%s:%s", "nproc=%s:%s"]\n' \
        "$nofile" "$nofile" "$nproc" "$nproc" >"$conf"
    log "this machine cannot raise resource limits: containers get nofile=$nofile, nproc=$nproc ($conf)"
    echo "$conf"
}

# The system's registries.conf plus 127.0.0.1 and localhost over plain HTTP, as Docker allows.
registries_conf() {
    local conf system=/etc/containers/registries.conf
    conf="$(dirname "$PIDFILE")/pipe-podman-$uid-registries.conf"
    if [ -f "$system" ]; then cat "$system" >"$conf"; else : >"$conf"; fi
    local host
    for host in 127.0.0.1 localhost; do
        if ! grep -qE "^[[:space:]]*location[[:space:]]*=[[:space:]]*\"$host\"" "$conf"; then
            printf '\n[[registry]]\nlocation = "%s"\ninsecure = true\n' "$host" >>"$conf"
        fi
    done
    echo "$conf"
}

ensure() {
    local start
    start=$(date +%s)
    if ! command -v podman >/dev/null 2>&1; then
        if [ "$uid" -ne 0 ]; then
            log "podman is missing: install Debian's podman package (apt-get install podman) as root"
            return 1
        fi
        log "podman missing: installing it with apt-get"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq podman >/dev/null
    fi
    if ! command -v curl >/dev/null 2>&1; then
        log "curl is missing (used to ask the socket whether the service answers)"
        return 1
    fi
    if answers; then
        log "Podman already answers on $SOCKET: not starting it"
        echo "unix://$SOCKET"
        return 0
    fi
    mkdir -p "$(dirname "$SOCKET")"
    local conf registries
    conf=$(limits_conf)
    registries=$(registries_conf)
    log "starting podman system service on $SOCKET (log: $LOGFILE, pid file: $PIDFILE)"
    # setsid: the service outlives this script and gets no terminal signals.
    daemon_start "$LOGFILE" "$PIDFILE" env CONTAINERS_REGISTRIES_CONF="$registries" \
        CONTAINERS_CONF="${conf:-${CONTAINERS_CONF:-}}" \
        setsid podman system service --time=0 "unix://$SOCKET"
    local pid
    pid=$(cat "$PIDFILE")
    daemon_wait answers 30 "podman system service" "$LOGFILE" "$PIDFILE" || return 1
    log "started podman system service (pid $pid) in $(($(date +%s) - start)) s"
    echo "unix://$SOCKET"
}

load_images() {
    local start missing=() image
    start=$(date +%s)
    for image in "${IMAGES[@]}"; do
        if ! podman image exists "$image" 2>/dev/null; then
            missing+=("$image")
        fi
    done
    if [ "${#missing[@]}" -eq 0 ]; then
        log "Podman has the test images: reused"
        return 0
    fi
    for image in "${missing[@]}"; do
        if ! DOCKER_HOST=unix:///var/run/docker.sock docker image inspect "$image" >/dev/null 2>&1; then
            log "Docker has no $image: run scripts/docker-daemon.sh ensure && scripts/test-images.sh first"
            return 1
        fi
    done
    log "copying ${missing[*]} from Docker into Podman"
    DOCKER_HOST=unix:///var/run/docker.sock docker save "${missing[@]}" | podman load -q >/dev/null
    log "loaded in $(($(date +%s) - start)) s"
}

stop() {
    daemon_stop "$PIDFILE" "podman system service" 20
}

case "${1:-}" in
    ensure) ensure ;;
    load-images) load_images ;;
    stop) stop ;;
    *)
        echo "usage: $0 ensure|load-images|stop" >&2
        exit 2
        ;;
esac
