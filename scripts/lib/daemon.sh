# shellcheck shell=bash
# Shared by the scripts that start a daemon in the background and stop it again
# (docker-daemon.sh, podman-service.sh, remote-daemon.sh). Sourced, not run. The sourcing script
# defines log() (its own prefix on stderr).
#
#   daemon_start LOGFILE PIDFILE COMMAND...   start COMMAND in the background (stdin closed,
#                                             output to LOGFILE); its pid goes to PIDFILE (none
#                                             when PIDFILE is empty)
#   daemon_wait ANSWERS SECONDS NAME LOGFILE [PIDFILE]
#                                             wait until the command ANSWERS succeeds (once a
#                                             second, SECONDS at most); with PIDFILE, give up as
#                                             soon as its process is gone
#   daemon_stop PIDFILE NAME SECONDS          stop only the process named in PIDFILE (TERM, KILL
#                                             after SECONDS), saying what it does
#   daemon_stop_pid PID NAME SECONDS          the same for a pid, silent unless KILL is needed
#   daemon_running PID                        the process runs (a zombie does not)
#   daemon_pidfile_alive PIDFILE              PIDFILE names a running process

daemon_running() {
    local state
    [[ "$1" =~ ^[0-9]+$ ]] || return 1
    state=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1) || return 1
    [ -n "$state" ] && [ "$state" != Z ]
}

daemon_pidfile_alive() {
    [ -f "$1" ] && daemon_running "$(cat "$1")"
}

# A signal to a process that may be root's while this script is not.
daemon_signal() {
    local sig=$1 pid=$2
    if [ "$(id -u)" -eq 0 ] || kill -0 "$pid" 2>/dev/null; then
        kill "-$sig" "$pid" 2>/dev/null
    else
        sudo kill "-$sig" "$pid"
    fi
}

daemon_start() {
    local logfile=$1 pidfile=$2
    shift 2
    # The command is run directly (not through a function or subshell), so that $! is the
    # command itself, or the setsid/sudo/env in front of it that execs or forwards signals to it.
    "$@" >"$logfile" 2>&1 </dev/null &
    local pid=$!
    if [ -n "$pidfile" ]; then
        echo "$pid" >"$pidfile"
    fi
}

daemon_wait() {
    local answers=$1 seconds=$2 name=$3 logfile=$4 pidfile=${5:-}
    local pid="" waited=0
    if [ -n "$pidfile" ]; then
        pid=$(cat "$pidfile")
    fi
    until "$answers"; do
        if [ -n "$pid" ] && ! daemon_running "$pid"; then
            log "$name exited early; last lines of $logfile:"
            tail -n 20 "$logfile" >&2 || true
            rm -f "$pidfile"
            return 1
        fi
        if [ "$waited" -ge "$seconds" ]; then
            log "$name did not answer within $seconds s; last lines of $logfile:"
            tail -n 20 "$logfile" >&2 || true
            return 1
        fi
        sleep 1
        waited=$((waited + 1))
    done
}

daemon_stop_pid() {
    local pid=$1 name=$2 seconds=$3 waited=0
    daemon_signal TERM "$pid" || true
    while daemon_running "$pid"; do
        if [ "$waited" -ge "$seconds" ]; then
            log "$name $pid still running after $seconds s: SIGKILL"
            daemon_signal KILL "$pid" || true
            break
        fi
        sleep 1
        waited=$((waited + 1))
    done
}

daemon_stop() {
    local pidfile=$1 name=$2 seconds=$3 pid
    if [ ! -f "$pidfile" ]; then
        log "no pid file $pidfile: this script started no $name, nothing to stop"
        return 0
    fi
    pid=$(cat "$pidfile")
    if ! daemon_running "$pid"; then
        log "$name $pid from $pidfile is not running"
        rm -f "$pidfile"
        return 0
    fi
    log "stopping $name (pid $pid)"
    daemon_stop_pid "$pid" "$name" "$seconds"
    rm -f "$pidfile"
    log "stopped $name (pid $pid)"
}
