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
# Rootless, run by root: `--user NAME` after the command (or PIPE_PODMAN_USER=NAME) serves that
# user's rootless Podman ($UID above is then the user's). `ensure --user NAME` creates the user when
# it is missing (useradd) and gives it subordinate ids (/etc/subuid, /etc/subgid), installs uidmap
# and slirp4netns when they are missing, makes /dev/net/tun usable by the user (slirp4netns: mode
# 0666; the old mode is kept next to the pid file), creates /run/user/UID when it is missing and
# starts the service as the user on /run/user/UID/podman/podman.sock; `load-images --user NAME`
# loads the images into the user's storage; `stop --user NAME` stops that service (and its child
# in the user namespace) and the user's pause process (when this script created /run/user/UID),
# removes /run/user/UID (likewise, unless containers remain) and gives /dev/net/tun its old mode
# back. The user, its subordinate ids and its image storage
# stay (the next run reuses them). `run --user NAME -- COMMAND...` runs COMMAND as the user, with
# DOCKER_HOST naming the user's socket (a rootless engine's containers run as the user: files a
# job bind-mounts must be the user's).
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

command=${1:-}
[ "$#" -eq 0 ] || shift
ROOTLESS_USER="${PIPE_PODMAN_USER:-}"
while [ "$#" -gt 0 ]; do
    case "$1" in
        --user) ROOTLESS_USER=${2:-}; shift 2 || shift ;;
        --user=*) ROOTLESS_USER=${1#--user=}; shift ;;
        --) shift; break ;;
        *) command=usage; break ;;
    esac
done
# What `run` runs: the words after `--`.
RUN_ARGS=("$@")
IMAGES=(pipe-test/busybox:latest pipe-test/debian:bookworm pipe-test/python:bookworm)
TUN=/dev/net/tun

# The socket, pid file and log of the service: this process's own, or (--user) that user's.
settings() {
    if [ -n "$ROOTLESS_USER" ]; then
        uid=$(id -u "$ROOTLESS_USER")
        gid=$(id -g "$ROOTLESS_USER")
        home=$(getent passwd "$ROOTLESS_USER" | cut -d: -f6)
        runtime=/run/user/$uid
        SOCKET="${PIPE_PODMAN_SOCKET:-$runtime/podman/podman.sock}"
    else
        uid=$(id -u)
        if [ "$uid" -eq 0 ]; then
            SOCKET="${PIPE_PODMAN_SOCKET:-/run/podman/podman.sock}"
        else
            SOCKET="${PIPE_PODMAN_SOCKET:-${XDG_RUNTIME_DIR:-/run/user/$uid}/podman/podman.sock}"
        fi
    fi
    PIDFILE="${PIPE_PODMAN_PIDFILE:-/tmp/pipe-podman-$uid.pid}"
    LOGFILE="${PIPE_PODMAN_LOG:-/tmp/pipe-podman-$uid.log}"
}

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

# Rootless storage on the kernel's own overlay (Linux 5.13 and later), where Podman would
# otherwise fall back to vfs (a full copy of the image per container) when /dev/fuse is not the
# user's: a storage.conf of the service's own (CONTAINERS_STORAGE_CONF), for the service and for
# `load-images` alike. PIPE_PODMAN_STORAGE_DRIVER=vfs (or another) picks another driver.
storage_conf() {
    local conf
    conf="$(dirname "$PIDFILE")/pipe-podman-$uid-storage.conf"
    printf '[storage]\ndriver = "%s"\n' "${PIPE_PODMAN_STORAGE_DRIVER:-overlay}" >"$conf"
    echo "$conf"
}

# The command line that runs what follows it as the rootless user, in its home, with a login's
# environment and its runtime directory (setpriv and env exec: no process of their own stays).
user_command() {
    as_user_cmd=(setpriv --reuid="$uid" --regid="$gid" --init-groups
        env -i -C "$home" HOME="$home" USER="$ROOTLESS_USER" LOGNAME="$ROOTLESS_USER"
        PATH=/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin XDG_RUNTIME_DIR="$runtime"
        CONTAINERS_STORAGE_CONF="$(storage_conf)")
}

as_user() {
    user_command
    "${as_user_cmd[@]}" "$@"
}

# podman for the service's owner: this process, or the rootless user.
podman_cli() {
    if [ -n "$ROOTLESS_USER" ]; then as_user podman "$@"; else podman "$@"; fi
}

# A range of 65536 subordinate ids in FILE for the user, above every range given out already.
subordinate_ids() {
    local file=$1 flag=$2 next
    touch /etc/subuid /etc/subgid
    if grep -q "^$ROOTLESS_USER:" "$file"; then
        return 0
    fi
    next=$(awk -F: 'BEGIN { n = 100000 } NF >= 3 { e = $2 + $3; if (e > n) n = e } END { print n }' \
        /etc/subuid /etc/subgid)
    log "giving $ROOTLESS_USER subordinate ids $next-$((next + 65535)) ($file)"
    usermod "$flag" "$next-$((next + 65535))" "$ROOTLESS_USER"
}

# The user, its subordinate ids and the helpers rootless Podman needs (uidmap, slirp4netns).
rootless_user() {
    if [ "$(id -u)" -ne 0 ]; then
        log "--user needs root (it may create the user, and makes $TUN usable by it)"
        return 1
    fi
    local missing=()
    command -v newuidmap >/dev/null 2>&1 || missing+=(uidmap)
    command -v slirp4netns >/dev/null 2>&1 || missing+=(slirp4netns)
    if [ "${#missing[@]}" -gt 0 ]; then
        log "installing ${missing[*]} with apt-get"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    fi
    if ! id -u "$ROOTLESS_USER" >/dev/null 2>&1; then
        log "creating user $ROOTLESS_USER (useradd)"
        useradd --create-home --shell /bin/bash "$ROOTLESS_USER"
    fi
    subordinate_ids /etc/subuid --add-subuids
    subordinate_ids /etc/subgid --add-subgids
}

# slirp4netns opens /dev/net/tun as the user: mode 0666 while the service runs. The old mode (or
# "absent") is kept in $PIDFILE.tun, once, for `stop`.
tun_usable() {
    local mode
    if [ ! -e "$TUN" ]; then
        [ -f "$PIDFILE.tun" ] || echo absent >"$PIDFILE.tun"
        log "creating $TUN (mode 0666; stop removes it)"
        mkdir -p "$(dirname "$TUN")"
        mknod -m 0666 "$TUN" c 10 200
        return 0
    fi
    mode=$(stat -c %a "$TUN")
    if [ "$mode" != 666 ]; then
        [ -f "$PIDFILE.tun" ] || echo "$mode" >"$PIDFILE.tun"
        log "$TUN: mode $mode -> 0666 for slirp4netns (stop restores $mode)"
        chmod 0666 "$TUN"
    fi
}

tun_restore() {
    [ -f "$PIDFILE.tun" ] || return 0
    local mode
    mode=$(cat "$PIDFILE.tun")
    if [ "$mode" = absent ]; then
        log "removing $TUN (this script created it)"
        rm -f "$TUN"
    elif [ -e "$TUN" ]; then
        log "$TUN: mode back to $mode"
        chmod "$mode" "$TUN"
    fi
    rm -f "$PIDFILE.tun"
}

# The user's runtime directory (a login would have made it); $PIDFILE.runtime says this script
# made it.
runtime_dir() {
    if [ ! -d "$runtime" ]; then
        log "creating $runtime for $ROOTLESS_USER (stop removes it)"
        install -d -m 0700 -o "$uid" -g "$gid" "$runtime"
        : >"$PIDFILE.runtime"
    fi
}

runtime_restore() {
    [ -f "$PIDFILE.runtime" ] || return 0
    # Rootless Podman keeps a pause process (holding its user namespace) while anything of it runs.
    local pause="$runtime/libpod/tmp/pause.pid"
    if daemon_pidfile_alive "$pause"; then
        daemon_stop_pid "$(cat "$pause")" "the pause process of $ROOTLESS_USER's Podman" 10
    fi
    log "removing $runtime (this script created it)"
    rm -rf "$runtime"
    rm -f "$PIDFILE.runtime"
}

ensure() {
    local start
    start=$(date +%s)
    if ! command -v podman >/dev/null 2>&1; then
        if [ "$(id -u)" -ne 0 ]; then
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
    if [ -n "$ROOTLESS_USER" ]; then
        rootless_user
    fi
    settings
    if answers; then
        log "Podman already answers on $SOCKET: not starting it"
        echo "unix://$SOCKET"
        return 0
    fi
    local conf registries
    conf=$(limits_conf)
    registries=$(registries_conf)
    log "starting podman system service on $SOCKET (log: $LOGFILE, pid file: $PIDFILE)"
    # setsid: the service outlives this script and gets no terminal signals.
    if [ -n "$ROOTLESS_USER" ]; then
        tun_usable
        runtime_dir
        as_user mkdir -p "$(dirname "$SOCKET")"
        user_command
        daemon_start "$LOGFILE" "$PIDFILE" setsid "${as_user_cmd[@]}" \
            CONTAINERS_REGISTRIES_CONF="$registries" CONTAINERS_CONF="${conf:-${CONTAINERS_CONF:-}}" \
            podman system service --time=0 "unix://$SOCKET"
    else
        mkdir -p "$(dirname "$SOCKET")"
        daemon_start "$LOGFILE" "$PIDFILE" env CONTAINERS_REGISTRIES_CONF="$registries" \
            CONTAINERS_CONF="${conf:-${CONTAINERS_CONF:-}}" \
            setsid podman system service --time=0 "unix://$SOCKET"
    fi
    local pid
    pid=$(cat "$PIDFILE")
    daemon_wait answers 30 "podman system service" "$LOGFILE" "$PIDFILE" || return 1
    log "started podman system service (pid $pid) in $(($(date +%s) - start)) s"
    echo "unix://$SOCKET"
}

load_images() {
    local start missing=() image
    start=$(date +%s)
    settings
    for image in "${IMAGES[@]}"; do
        if ! podman_cli image exists "$image" 2>/dev/null; then
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
    DOCKER_HOST=unix:///var/run/docker.sock docker save "${missing[@]}" | podman_cli load -q >/dev/null
    log "loaded in $(($(date +%s) - start)) s"
}

stop() {
    if [ -n "$ROOTLESS_USER" ] && ! id -u "$ROOTLESS_USER" >/dev/null 2>&1; then
        log "no user $ROOTLESS_USER: this script started no service for it, nothing to stop"
        return 0
    fi
    settings
    # Rootless, podman runs itself again inside the user namespace: that child is the one that
    # serves, and it does not always go with its parent.
    # Containers still there keep /run/user/UID (their runtime state is in it).
    local inner="" containers=""
    if [ -n "$ROOTLESS_USER" ] && daemon_pidfile_alive "$PIDFILE"; then
        inner=$(ps -o pid= --ppid "$(cat "$PIDFILE")" | tr -d ' ') || true
        containers=$(curl -fsS --max-time 5 --unix-socket "$SOCKET" \
            'http://podman/containers/json?all=true' 2>/dev/null | tr -d '[:space:]') || true
    fi
    daemon_stop "$PIDFILE" "podman system service" 20
    if [ -n "$ROOTLESS_USER" ]; then
        local pid
        for pid in $inner; do
            if daemon_running "$pid"; then
                daemon_stop_pid "$pid" "podman system service (in the user namespace)" 20
            fi
        done
        if [ -n "$containers" ] && [ "$containers" != "[]" ]; then
            log "containers of $ROOTLESS_USER's Podman remain: $runtime stays (their state is in it)"
        else
            runtime_restore
        fi
        tun_restore
    fi
}

# A command as the rootless user (its home, its runtime directory), DOCKER_HOST naming its socket
# and CI passed on: its containers' bind mounts are then the user's own files.
run_as_user() {
    if [ -z "$ROOTLESS_USER" ] || [ "${#RUN_ARGS[@]}" -eq 0 ]; then
        echo "usage: $0 run --user NAME -- COMMAND..." >&2
        exit 2
    fi
    settings
    user_command
    exec "${as_user_cmd[@]}" DOCKER_HOST="unix://$SOCKET" ${CI:+CI="$CI"} "${RUN_ARGS[@]}"
}

case "$command" in
    ensure) ensure ;;
    load-images) load_images ;;
    stop) stop ;;
    run) run_as_user ;;
    *)
        echo "usage: $0 ensure|load-images|stop [--user NAME]; $0 run --user NAME -- COMMAND..." >&2
        exit 2
        ;;
esac
