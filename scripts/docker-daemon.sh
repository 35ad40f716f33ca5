#!/usr/bin/env bash
# Make sure a Docker daemon answers, or stop the one this script started.
#
#   scripts/docker-daemon.sh ensure   install docker.io when dockerd is missing; start dockerd in the
#                                     background when `docker info` fails (unix socket + tcp on
#                                     127.0.0.1:2375); wait until it answers (60 s at most)
#   scripts/docker-daemon.sh stop     stop only the dockerd that `ensure` started (pid file)
#
# Environment: PIPE_DOCKERD_PIDFILE (default /tmp/pipe-dockerd.pid),
#              PIPE_DOCKERD_LOG (default /tmp/pipe-dockerd.log),
#              PIPE_DOCKERD_TCP (default tcp://127.0.0.1:2375; empty = no tcp endpoint).
set -euo pipefail

PIDFILE="${PIPE_DOCKERD_PIDFILE:-/tmp/pipe-dockerd.pid}"
LOGFILE="${PIPE_DOCKERD_LOG:-/tmp/pipe-dockerd.log}"
TCP="${PIPE_DOCKERD_TCP-tcp://127.0.0.1:2375}"

log() { echo "docker-daemon: $*" >&2; }
# shellcheck source-path=SCRIPTDIR source=lib/daemon.sh
. "$(dirname "$0")/lib/daemon.sh"

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

daemon_answers() {
    # The unix socket the daemon listens on, whatever DOCKER_HOST says.
    DOCKER_HOST=unix:///var/run/docker.sock docker info >/dev/null 2>&1
}

ensure() {
    local start
    start=$(date +%s)
    if ! command -v dockerd >/dev/null 2>&1 || ! command -v docker >/dev/null 2>&1; then
        log "dockerd or docker missing: installing docker.io with apt-get"
        as_root apt-get update -qq
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io >/dev/null
    fi
    if daemon_answers; then
        log "a Docker daemon already answers: not starting one"
        return 0
    fi
    local args=(-H unix:///var/run/docker.sock)
    if [ -n "$TCP" ]; then
        args+=(-H "$TCP")
    fi
    log "starting dockerd ${args[*]} (log: $LOGFILE, pid file: $PIDFILE)"
    # setsid: the daemon outlives this script and gets no terminal signals (Ctrl-C); sudo
    # forwards signals to it.
    if [ "$(id -u)" -eq 0 ]; then
        daemon_start "$LOGFILE" "$PIDFILE" setsid dockerd "${args[@]}"
    else
        daemon_start "$LOGFILE" "$PIDFILE" sudo setsid dockerd "${args[@]}"
    fi
    local pid
    pid=$(cat "$PIDFILE")
    daemon_wait daemon_answers 60 dockerd "$LOGFILE" "$PIDFILE" || return 1
    log "started dockerd (pid $pid) in $(($(date +%s) - start)) s"
}

stop() {
    daemon_stop "$PIDFILE" dockerd 30
}

case "${1:-}" in
    ensure) ensure ;;
    stop) stop ;;
    *)
        echo "usage: $0 ensure|stop" >&2
        exit 2
        ;;
esac
