#!/usr/bin/env bash
# A second Docker daemon on "another machine": its own network namespace (a veth pair,
# 10.77.0.1 here and 10.77.0.2 there), its own bridge, data root, exec root and pid file, and its
# own mount namespace in which this machine's temporary directory and the repository are empty
# tmpfs mounts, so nothing run through it can read a file of this machine's disk. It answers on
#
#   tcp://10.77.0.2:2376  TLS, client certificates checked (DOCKER_TLS_VERIFY=1, DOCKER_CERT_PATH)
#   tcp://10.77.0.2:2375  plain HTTP (a socat relay to the daemon's socket in the namespace)
#   ssh://root@10.77.0.2  an sshd in the namespace; `docker system dial-stdio` reaches the daemon
#
# and holds the test images (scripts/test-images.sh), loaded from the local daemon.
#
#   scripts/remote-daemon.sh ensure   set it all up (idempotent) and print the settings as
#                                     shell assignments (eval them); 120 s at most
#   scripts/remote-daemon.sh env      print the settings only
#   scripts/remote-daemon.sh stop     stop what `ensure` started (by pid), remove the namespace
#
# Environment: PIPE_REMOTE_DIR (default /var/lib/pipe-remote: keys, certificates, data root,
# logs; must not be under a hidden directory), PIPE_REMOTE_HIDE (directories hidden from the
# remote side; default: $TMPDIR or /tmp, and the repository). Needs root, ip, unshare, openssl,
# sshd (openssh-server), socat; installs openssh-server and socat with apt-get when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)

DIR="${PIPE_REMOTE_DIR:-/var/lib/pipe-remote}"
HIDE="${PIPE_REMOTE_HIDE:-${TMPDIR:-/tmp} $repo}"
NS=pipe-remote
VETH_HERE=pipe-rv0
VETH_THERE=pipe-rv1
BRIDGE=pipe-rb0
HERE=10.77.0.1
THERE=10.77.0.2
RUN=/run/pipe-remote
SOCK="$RUN/docker.sock"

log() { echo "remote-daemon: $*" >&2; }
# shellcheck source-path=SCRIPTDIR source=lib/daemon.sh
. scripts/lib/daemon.sh

settings() {
    cat <<EOF
PIPE_REMOTE_TCP=tcp://$THERE:2375
PIPE_REMOTE_TLS=tcp://$THERE:2376
PIPE_REMOTE_CERTS=$DIR/client
PIPE_REMOTE_SSH=ssh://root@$THERE
PIPE_REMOTE_SSH_KEY=$DIR/ssh/id_ed25519
PIPE_REMOTE_SSH_CONFIG=$DIR/ssh/config
EOF
}

need_tools() {
    local missing=()
    command -v sshd >/dev/null 2>&1 || [ -x /usr/sbin/sshd ] || missing+=(openssh-server)
    command -v socat >/dev/null 2>&1 || missing+=(socat)
    if [ "${#missing[@]}" -gt 0 ]; then
        log "installing ${missing[*]} with apt-get"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    fi
}

network() {
    if ! ip netns list | grep -qw "$NS"; then
        ip netns add "$NS"
    fi
    if ! ip link show "$VETH_HERE" >/dev/null 2>&1; then
        ip link add "$VETH_HERE" type veth peer name "$VETH_THERE"
        ip link set "$VETH_THERE" netns "$NS"
        ip addr add "$HERE/24" dev "$VETH_HERE"
        ip link set "$VETH_HERE" up
        ip netns exec "$NS" ip addr add "$THERE/24" dev "$VETH_THERE"
        ip netns exec "$NS" ip link set "$VETH_THERE" up
        ip netns exec "$NS" ip link set lo up
        ip netns exec "$NS" ip route add default via "$HERE"
    fi
    # The remote daemon's own bridge (never docker0, never --bridge=none).
    if ! ip netns exec "$NS" ip link show "$BRIDGE" >/dev/null 2>&1; then
        ip netns exec "$NS" ip link add "$BRIDGE" type bridge
        ip netns exec "$NS" ip addr add 172.31.77.1/24 dev "$BRIDGE"
        ip netns exec "$NS" ip link set "$BRIDGE" up
    fi
}

certificates() {
    local ca="$DIR/ca" srv="$DIR/server" cli="$DIR/client"
    [ -f "$cli/key.pem" ] && return 0
    log "making a CA, a server certificate for $THERE and a client certificate (openssl)"
    mkdir -p "$ca" "$srv" "$cli"
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=pipe remote test CA" \
        -keyout "$ca/key.pem" -out "$ca/cert.pem" 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -subj "/CN=$THERE" -keyout "$srv/key.pem" -out "$srv/req.pem" 2>/dev/null
    printf 'subjectAltName=IP:%s\nextendedKeyUsage=serverAuth\n' "$THERE" >"$srv/ext.cnf"
    openssl x509 -req -days 3650 -in "$srv/req.pem" -CA "$ca/cert.pem" -CAkey "$ca/key.pem" \
        -CAcreateserial -extfile "$srv/ext.cnf" -out "$srv/cert.pem" 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -subj "/CN=pipe client" -keyout "$cli/key.pem" -out "$cli/req.pem" 2>/dev/null
    printf 'extendedKeyUsage=clientAuth\n' >"$cli/ext.cnf"
    openssl x509 -req -days 3650 -in "$cli/req.pem" -CA "$ca/cert.pem" -CAkey "$ca/key.pem" \
        -CAcreateserial -extfile "$cli/ext.cnf" -out "$cli/cert.pem" 2>/dev/null
    cp "$ca/cert.pem" "$cli/ca.pem"
    cp "$ca/cert.pem" "$srv/ca.pem"
    chmod 600 "$ca/key.pem" "$srv/key.pem" "$cli/key.pem"
}

ssh_keys() {
    local s="$DIR/ssh"
    mkdir -p "$s"
    chmod 700 "$s"
    [ -f "$s/id_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -C pipe-remote-client -f "$s/id_ed25519"
    [ -f "$s/host_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -C pipe-remote-host -f "$s/host_ed25519"
    cp "$s/id_ed25519.pub" "$s/authorized_keys"
    chmod 600 "$s/authorized_keys"
    printf '%s %s\n' "$THERE" "$(cut -d' ' -f1-2 "$s/host_ed25519.pub")" >"$s/known_hosts"
    cat >"$s/sshd_config" <<EOF
ListenAddress $THERE
Port 22
HostKey $s/host_ed25519
AuthorizedKeysFile $s/authorized_keys
PidFile $RUN/sshd.pid
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
SetEnv DOCKER_HOST=unix://$SOCK
EOF
    # What a client needs to reach it (`ssh -F`, or lines for ~/.ssh/config).
    cat >"$s/config" <<EOF
Host $THERE
    User root
    IdentityFile $s/id_ed25519
    UserKnownHostsFile $s/known_hosts
    StrictHostKeyChecking yes
    BatchMode yes
EOF
}

answers() {
    DOCKER_HOST="tcp://$THERE:2375" timeout 5 docker version --format '{{.Server.Version}}' >/dev/null 2>&1
}

start_daemons() {
    mkdir -p "$RUN" "$DIR/data" /run/sshd
    if daemon_pidfile_alive "$RUN/dockerd.pid" && daemon_pidfile_alive "$RUN/sshd.pid" &&
        daemon_pidfile_alive "$RUN/socat.pid"; then
        return 0
    fi
    if daemon_pidfile_alive "$RUN/dockerd.pid"; then
        log "a remote dockerd runs but a companion is gone: restarting all"
        stop_daemons
    fi
    log "starting dockerd, sshd and a tcp relay in namespace $NS (log: $DIR/*.log)"
    local hide_mounts=""
    for d in $HIDE; do
        hide_mounts+="mount -t tmpfs -o size=16m pipe-remote-hidden '$d'; "
    done
    # A private mount namespace in the network namespace (entered with nsenter, not `ip netns
    # exec`, which would mount a sysfs without the cgroup hierarchies dockerd needs); the hidden
    # directories become empty.
    # sshd daemonizes (its pid file), socat runs in the background, dockerd replaces the shell.
    daemon_start "$DIR/dockerd.log" "" setsid nsenter --net="/run/netns/$NS" unshare -m --propagation private sh -c "
        $hide_mounts
        /usr/sbin/sshd -f '$DIR/ssh/sshd_config' -E '$DIR/sshd.log'
        socat TCP-LISTEN:2375,bind=$THERE,fork,reuseaddr UNIX-CONNECT:$SOCK >'$DIR/socat.log' 2>&1 &
        echo \$! >'$RUN/socat.pid'
        exec dockerd --data-root '$DIR/data' --exec-root '$RUN/exec' --pidfile '$RUN/dockerd.pid' \
            --bridge $BRIDGE -H unix://$SOCK -H tcp://$THERE:2376 \
            --tlsverify --tlscacert '$DIR/server/ca.pem' --tlscert '$DIR/server/cert.pem' \
            --tlskey '$DIR/server/key.pem'
    "
    daemon_wait answers 60 "the remote dockerd" "$DIR/dockerd.log" || return 1
}

images() {
    local missing=()
    for image in pipe-test/busybox pipe-test/debian:bookworm pipe-test/python:bookworm; do
        if ! DOCKER_HOST="tcp://$THERE:2375" docker image inspect "$image" >/dev/null 2>&1; then
            missing+=("$image")
        fi
    done
    if [ "${#missing[@]}" -gt 0 ]; then
        log "loading ${missing[*]} from the local daemon"
        DOCKER_HOST=unix:///var/run/docker.sock docker save "${missing[@]}" | DOCKER_HOST="tcp://$THERE:2375" docker load -q >&2
    fi
}

ensure() {
    [ "$(id -u)" -eq 0 ] || { log "needs root (network and mount namespaces)"; exit 1; }
    case " $HIDE " in *" $DIR"*) log "PIPE_REMOTE_DIR ($DIR) must not be under a hidden directory ($HIDE)"; exit 1 ;; esac
    need_tools
    mkdir -p "$DIR"
    network
    certificates
    ssh_keys
    start_daemons
    images
    settings
}

# Zombies count as stopped (socat's parent is dockerd, which does not reap it).
stop_one() {
    local pidfile=$1 name=$2
    if daemon_pidfile_alive "$pidfile"; then
        daemon_stop_pid "$(cat "$pidfile")" "$name" 30
    fi
    rm -f "$pidfile"
}

stop_daemons() {
    stop_one "$RUN/socat.pid" socat
    stop_one "$RUN/sshd.pid" sshd
    stop_one "$RUN/dockerd.pid" dockerd
}

stop() {
    stop_daemons
    if ip netns list | grep -qw "$NS"; then
        ip netns del "$NS"
    fi
    ip link del "$VETH_HERE" 2>/dev/null || true
    log "stopped; keys, certificates and the data root stay in $DIR"
}

case "${1:-}" in
    ensure) ensure ;;
    env) settings ;;
    stop) stop ;;
    *) echo "usage: $0 ensure|env|stop" >&2; exit 2 ;;
esac
