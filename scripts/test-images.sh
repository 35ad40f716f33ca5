#!/usr/bin/env bash
# Build the local images that pipe's Docker tests and benchmarks use (no registry is needed):
#
#   pipe-test/busybox:latest   /bin/busybox from Debian's busybox-static + a link per applet,
#                              /bin/sh, /tmp, /etc/passwd (built in seconds)
#   pipe-test/debian:bookworm  `debootstrap --variant=minbase bookworm` (bash, coreutils, apt;
#                              a few minutes, from the same Debian mirror apt uses here)
#   pipe-test/python:bookworm  pipe-test/debian:bookworm + Debian's python3: the local base image
#                              of the lab's example service (examples/tasks-app; online, its
#                              Dockerfile uses the public python:3.12-slim) and of its test jobs
#
# An image that already exists is reused; PIPE_TEST_IMAGES_REBUILD=1 rebuilds both.
# PIPE_DEBIAN_MIRROR overrides the mirror. Runs as root (or through sudo).
set -euo pipefail

BUSYBOX_IMAGE=pipe-test/busybox:latest
DEBIAN_IMAGE=pipe-test/debian:bookworm
PYTHON_IMAGE=pipe-test/python:bookworm
DEFAULT_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

log() { echo "test-images: $*" >&2; }

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

image_exists() {
    docker image inspect "$1" >/dev/null 2>&1
}

apt_updated=0
apt_install() {
    if [ "$apt_updated" -eq 0 ]; then
        as_root apt-get update -qq
        apt_updated=1
    fi
    log "installing $* with apt-get"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# The Debian mirror of this machine's apt sources (deb822 `URIs:` or one-line `deb URI suite`),
# skipping debian-security; deb.debian.org when none is found.
debian_mirror() {
    if [ -n "${PIPE_DEBIAN_MIRROR:-}" ]; then
        echo "$PIPE_DEBIAN_MIRROR"
        return
    fi
    local uri
    uri=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null \
        | grep -v '^[[:space:]]*#' \
        | grep -oE '(https?://[^[:space:]]+)' \
        | grep -E '/debian/?$' \
        | head -n 1 || true)
    echo "${uri:-http://deb.debian.org/debian}"
}

WORK=""
cleanup() {
    if [ -n "$WORK" ] && [ -d "$WORK" ]; then
        as_root rm -rf "$WORK"
    fi
}
trap cleanup EXIT

build_busybox() {
    if image_exists "$BUSYBOX_IMAGE" && [ "${PIPE_TEST_IMAGES_REBUILD:-0}" != 1 ]; then
        log "$BUSYBOX_IMAGE exists: reused"
        return
    fi
    local start bb
    start=$(date +%s)
    if ! dpkg -s busybox-static >/dev/null 2>&1; then
        apt_install busybox-static
    fi
    bb=$(dpkg -L busybox-static | grep -E '/bin/busybox$' | head -n 1)
    log "building $BUSYBOX_IMAGE from $bb"
    WORK=$(mktemp -d /tmp/pipe-test-busybox.XXXXXX)
    local root="$WORK/rootfs"
    mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,etc,tmp,root,var/tmp}
    chmod 1777 "$root/tmp" "$root/var/tmp"
    cp "$bb" "$root/bin/busybox"
    local applet
    # `--list-full` gives each applet's conventional path (bin/sh, usr/bin/tail, sbin/ip, ...).
    for applet in $("$root/bin/busybox" --list-full); do
        if [ "$applet" != bin/busybox ] && [ ! -e "$root/$applet" ]; then
            mkdir -p "$(dirname "$root/$applet")"
            ln -s /bin/busybox "$root/$applet"
        fi
    done
    printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$root/etc/passwd"
    printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
    tar -C "$root" --numeric-owner --owner=0 --group=0 -c . \
        | docker import -c "ENV PATH=$DEFAULT_PATH" -c 'CMD ["/bin/sh"]' - "$BUSYBOX_IMAGE" >/dev/null
    rm -rf "$WORK"
    WORK=""
    log "built $BUSYBOX_IMAGE in $(($(date +%s) - start)) s"
}

build_debian() {
    if image_exists "$DEBIAN_IMAGE" && [ "${PIPE_TEST_IMAGES_REBUILD:-0}" != 1 ]; then
        log "$DEBIAN_IMAGE exists: reused"
        return
    fi
    local start mirror
    start=$(date +%s)
    if ! command -v debootstrap >/dev/null 2>&1; then
        apt_install debootstrap
    fi
    mirror=$(debian_mirror)
    log "building $DEBIAN_IMAGE: debootstrap --variant=minbase bookworm from $mirror (a few minutes)"
    WORK=$(as_root mktemp -d /tmp/pipe-test-debian.XXXXXX)
    local root="$WORK/rootfs"
    if ! as_root debootstrap --variant=minbase bookworm "$root" "$mirror" >"$WORK.log" 2>&1; then
        log "debootstrap failed; last lines of $WORK.log:"
        tail -n 30 "$WORK.log" >&2 || true
        return 1
    fi
    rm -f "$WORK.log"
    # Keep the image small: no package lists or downloaded .debs.
    as_root rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
    as_root tar -C "$root" --numeric-owner -c . \
        | docker import -c "ENV PATH=$DEFAULT_PATH" -c 'CMD ["/bin/bash"]' - "$DEBIAN_IMAGE" >/dev/null
    as_root rm -rf "$WORK"
    WORK=""
    log "built $DEBIAN_IMAGE in $(($(date +%s) - start)) s"
}

build_python() {
    if image_exists "$PYTHON_IMAGE" && [ "${PIPE_TEST_IMAGES_REBUILD:-0}" != 1 ]; then
        log "$PYTHON_IMAGE exists: reused"
        return
    fi
    local start
    start=$(date +%s)
    log "building $PYTHON_IMAGE: $DEBIAN_IMAGE + apt-get install python3 (about a minute)"
    # The classic builder: it uses the local base image as it is (BuildKit may want a registry).
    printf '%s\n' \
        "FROM $DEBIAN_IMAGE" \
        "RUN apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3 >/dev/null && rm -rf /var/lib/apt/lists/*" \
        | DOCKER_BUILDKIT=0 docker build --network host -q -t "$PYTHON_IMAGE" - >/dev/null
    log "built $PYTHON_IMAGE in $(($(date +%s) - start)) s"
}

total_start=$(date +%s)
if ! docker info >/dev/null 2>&1; then
    log "no Docker daemon answers: run scripts/docker-daemon.sh ensure first"
    exit 1
fi
build_busybox
build_debian
build_python
log "done in $(($(date +%s) - total_start)) s"
