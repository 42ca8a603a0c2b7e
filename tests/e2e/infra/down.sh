#!/usr/bin/env bash
# Stop what up.sh started for STATE_DIR: sshd (and its sessions), the
# registry, the mirror, dockerd (its containers get SIGTERM, SIGKILL after
# 5 s), its containerd, shims, docker-proxy and container processes. Leaves no
# process. The stack is shared (e2e tests, make demo): whatever runs on it stops.
#
#   tests/e2e/infra/down.sh STATE_DIR [--purge]
#
# Keeps the state (images, registry data, keys, password) for a fast next
# up.sh, unless --purge: then STATE_DIR is deleted. Safe to run twice.
set -euo pipefail

if [ $# -lt 1 ] || [ $# -gt 2 ] || { [ $# -eq 2 ] && [ "$2" != --purge ]; }; then
    echo "usage: $0 STATE_DIR [--purge]" >&2
    exit 2
fi
if [ ! -d "$1" ]; then
    echo "down.sh: $1 does not exist: nothing to stop" >&2
    exit 0
fi
t0=$(date +%s%N)
STATE=$(cd "$1" && pwd -P)
PURGE=${2:-}
log() { echo "down.sh: $*" >&2; }

exec 9>"$STATE/.lock"
flock -w 300 9 || { log "could not lock $STATE/.lock"; exit 1; }

# ours PID: a live server process (only these binaries: never a shell or a
# test runner that merely has the path in its arguments) of this state dir:
# one with a path below STATE_DIR/ in its arguments (not STATE_DIR-other/).
ours() {
    local comm
    comm=$(cat "/proc/$1/comm" 2>/dev/null) || return 1
    case $comm in
        dockerd | containerd | containerd-shim* | docker-registry | sshd) ;;
        *) return 1 ;;
    esac
    tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null | grep -qF -- "$STATE/"
}

pid_of() { # NAME -> pid from the pidfile if that process is ours
    local f="$STATE/run/$1.pid" pid
    [ -s "$f" ] || return 1
    pid=$(tr -dc 0-9 <"$f")
    [ -n "$pid" ] && ours "$pid" && echo "$pid"
}

# descendants PID...: all processes below PIDs (children, grandchildren, ...).
descendants() {
    local table
    table=$(ps -e -o pid=,ppid=)
    local -a todo=("$@") found=()
    while [ "${#todo[@]}" -gt 0 ]; do
        local parent=${todo[0]} child
        todo=("${todo[@]:1}")
        # shellcheck disable=SC2013 # one pid a word
        for child in $(awk -v p="$parent" '$2 == p {print $1}' <<<"$table"); do
            found+=("$child")
            todo+=("$child")
        done
    done
    echo "${found[@]}"
}

alive() { # PID...: succeed if any is still running (zombies count as gone)
    local pid state
    for pid in "$@"; do
        state=$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) || continue
        [ "$state" = Z ] || return 0
    done
    return 1
}

# stop SECONDS PID...: SIGTERM, wait up to SECONDS, then SIGKILL what is left.
stop() {
    local timeout=$1 deadline
    shift
    [ $# -gt 0 ] || return 0
    kill -TERM "$@" 2>/dev/null || true
    deadline=$((SECONDS + timeout))
    while alive "$@" && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.1; done
    if alive "$@"; then
        log "SIGKILL after ${timeout}s: $*"
        kill -KILL "$@" 2>/dev/null || true
        sleep 0.2
    fi
}

# --------------------------------------------------------------------- sshd ---
if pid=$(pid_of sshd); then
    # The listener's children are the open sessions: end them too.
    # shellcheck disable=SC2046
    stop 5 "$pid" $(descendants "$pid")
    log "stopped sshd ($pid)"
fi

# ---------------------------------------------------------- registry, mirror ---
for name in registry mirror; do
    if pid=$(pid_of "$name"); then
        stop 10 "$pid"
        log "stopped $name ($pid)"
    fi
done

# ------------------------------------------------------------------ dockerd ---
bridges=
if pid=$(pid_of dockerd); then
    # Remember the container processes: if dockerd has to be killed they
    # would outlive their (killed) shims.
    container_pids=$(timeout 10 docker -H "unix://$STATE/docker.sock" ps -q 2>/dev/null |
        xargs -r timeout 10 docker -H "unix://$STATE/docker.sock" inspect -f '{{.State.Pid}}' 2>/dev/null || true)
    # And the bridges of its networks (br-ID; not docker0, which any dockerd
    # uses): dockerd leaves them, each holding a subnet of Docker's address
    # pools. It makes them anew when it starts again.
    bridges=$(timeout 10 docker -H "unix://$STATE/docker.sock" network ls -q --filter driver=bridge 2>/dev/null |
        sed 's/^\(.\{12\}\).*/br-\1/' || true)
    # dockerd stops its containers (--shutdown-timeout 5) and its containerd.
    stop 30 "$pid"
    log "stopped dockerd ($pid)"
    for cpid in $container_pids; do
        # shellcheck disable=SC2046
        if [ "$cpid" -gt 0 ] 2>/dev/null && alive "$cpid"; then stop 5 "$cpid" $(descendants "$cpid"); fi
    done
fi

# ---------------------------------------------------------------- leftovers ---
# containerd, containerd-shim-runc-v2 (-address STATE/...), an sshd,
# registry or mirror whose pidfile was lost: anything naming this state dir, and below.
leftovers=()
for dir in /proc/[0-9]*; do
    p=${dir#/proc/}
    if ours "$p"; then leftovers+=("$p"); fi
done 2>/dev/null
if [ "${#leftovers[@]}" -gt 0 ]; then
    # shellcheck disable=SC2046
    set -- "${leftovers[@]}" $(descendants "${leftovers[@]}")
    log "stopping leftover processes: $*"
    stop 5 "$@"
fi

for bridge in $bridges; do
    [ -e "/sys/class/net/$bridge" ] && ip link delete "$bridge" 2>/dev/null || true
done

# Mounts dockerd left behind (shm, netns) would block deleting the state.
awk -v s="$STATE/" 'index($2, s) == 1 {print $2}' /proc/self/mounts | sort -r |
    while read -r mnt; do umount -l "$mnt" 2>/dev/null || true; done

rm -f "$STATE"/run/*.pid "$STATE/docker.sock"

if [ "$PURGE" = --purge ]; then
    rm -rf "$STATE"
    log "removed $STATE"
fi
log "done in $((($(date +%s%N) - t0) / 1000000)) ms"
